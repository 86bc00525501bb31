"""The output file as the resume record: torn last lines, foreign files, and retrying failures."""

from __future__ import annotations

import json

import pytest

from tierwise.batch import BatchInputError
from tierwise.batch.journal import Journal


def lines(*entries):
    return "".join(json.dumps(e) + "\n" for e in entries)


@pytest.mark.parametrize("tail", ['{"id": "c", "sta', '{"id": "c", "status": "ok"}'])
def test_a_torn_last_line_is_cut_and_its_item_runs_again(tmp_path, tail):
    out = tmp_path / "out.jsonl"
    out.write_text(lines({"id": "a", "status": "ok"}, {"id": "b", "status": "failed"}) + tail)
    journal = Journal(out)
    done = journal.open(resume=True, overwrite=False)
    assert sorted(done) == ["a", "b"]  # "c" had no newline: its write was cut short
    journal.append({"id": "c", "status": "ok"})
    journal.close()
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a", "b", "c"]


def test_existing_results_need_resume_or_overwrite(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text(lines({"id": "a", "status": "ok"}))
    with pytest.raises(BatchInputError, match="--resume .* or --overwrite"):
        Journal(out).open(resume=False, overwrite=False)
    journal = Journal(out)
    assert journal.open(resume=False, overwrite=True) == {}
    journal.close()
    assert out.read_text() == ""


def test_a_foreign_file_is_refused(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("hello\n" + lines({"id": "a"}))
    with pytest.raises(BatchInputError, match=r"out.jsonl:1: not a tierwise batch result line"):
        Journal(out).open(resume=True, overwrite=False)


def test_retry_failed_drops_the_failed_lines(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text(lines({"id": "a", "status": "ok"}, {"id": "b", "status": "failed"}, {"id": "c", "status": "ok"}))
    journal = Journal(out)
    assert sorted(journal.open(resume=True, overwrite=False, retry_failed=True)) == ["a", "c"]
    journal.close()
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a", "c"]
    assert not (tmp_path / "out.jsonl.tmp").exists()
