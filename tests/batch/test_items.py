"""Input checking: every bad line is named with its number before anything runs."""

from __future__ import annotations

import json

import pytest

from tierwise.batch import BatchInputError, read_items
from tierwise.batch.grouping import by_shared_prefix, shared_prefix_chars


def write(tmp_path, *lines):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_ids_defaults_and_metadata(tmp_path):
    path = write(tmp_path, json.dumps({"id": "t-1", "input": "first", "task_type": "support"}), "",
                 json.dumps({"input": "third", "metadata": {"customer": 7}}), json.dumps({"id": 9, "input": "x"}))
    items = read_items(path)
    assert [(i.id, i.line) for i in items] == [("t-1", 1), ("3", 3), ("9", 4)]
    assert items[0].task_type == "support" and items[1].metadata == {"customer": 7}
    assert items[1].payload("req") == {"input": "third", "request_id": "req"}


def test_every_bad_line_is_named(tmp_path):
    path = write(tmp_path, json.dumps({"id": "a", "input": "ok"}), "{not json", json.dumps({"id": "a", "input": "y"}),
                 json.dumps({"inpt": "typo"}), "[1, 2]", json.dumps({"input": "  "}), json.dumps({"input": 3}),
                 json.dumps({"input": "x", "id": True}), json.dumps({"input": "x", "task_type": 1}),
                 json.dumps({"input": "x", "metadata": [1]}))
    with pytest.raises(BatchInputError) as err:
        read_items(path)
    message = str(err.value)
    assert "9 bad line(s)" in message and "nothing was run" in message
    for expected in (":2: not JSON", ":3: id 'a' is already used on line 1", ":4: unknown key(s) ['inpt']",
                     ":5: expected a JSON object", ":6: \"input\" is empty", ":7: \"input\" must be text",
                     ":8: \"id\" must be", ":9: \"task_type\" must be a string", ":10: \"metadata\" must be"):
        assert expected in message


def test_missing_empty_and_binary_files(tmp_path):
    with pytest.raises(BatchInputError, match="no such batch input file"):
        read_items(tmp_path / "nope.jsonl")
    with pytest.raises(BatchInputError, match="no items"):
        read_items(write(tmp_path, ""))
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b'{"input": "\xff"}\n')
    with pytest.raises(BatchInputError, match="not UTF-8"):
        read_items(binary)


def test_grouping_puts_shared_prefixes_together(tmp_path):
    lines = [{"input": "Invoice 17 from ACME: total?"}, {"input": "Why is the sky blue?"},
             {"input": "Invoice 18 from ACME: total?"}, {"input": "Why is grass green?"},
             {"input": "Invoice 17 from ACME: due date?", "task_type": "billing"}]
    items = read_items(write(tmp_path, *map(json.dumps, lines)))
    grouped = by_shared_prefix(items)
    assert [i.line for i in grouped] == [1, 3, 4, 2, 5]
    assert shared_prefix_chars(grouped) > shared_prefix_chars(items)


def test_a_file_saved_with_a_bom_and_windows_line_ends_is_read(tmp_path):
    """Notepad and Excel save UTF-8 with a byte-order mark and CRLF: the items are the same as without."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "a", "input": "caf\xc3\xa9"}\r\n{"id": "b", "input": "two"}\r\n')
    assert [(i.id, i.input) for i in read_items(path)] == [("a", "café"), ("b", "two")]
