"""The emulated Batch API and Files API, driven by the real google-genai `client.batches` / `client.files`."""

from __future__ import annotations

import io
import json
import time

import pytest
from google import genai
from google.genai import errors, types

from tierwise.emulator import BatchSettings, Rule

MODEL = "gemini-3.5-flash-lite"


def _client(emu) -> genai.Client:
    return genai.Client(api_key="emulator", http_options=types.HttpOptions(base_url=emu.base_url))


def _request(text: str) -> dict:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}]}


def _wait(client, name: str, timeout: float = 10.0) -> types.BatchJob:
    deadline = time.monotonic() + timeout
    while True:
        job = client.batches.get(name=name)
        if job.done or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_inline_job_runs_pending_running_succeeded_with_per_request_errors(emulator):
    emu = emulator([Rule(user="capital", reply="Paris."), Rule(user="boom", error=503)],
                   batch=BatchSettings(pending_s=0.3, running_s=0.3))
    client = _client(emu)
    job = client.batches.create(model=MODEL, src=[_request("capital of France?"), _request("boom"),
                                                  {**_request("capital again"), "metadata": {"key": "k3"}}],
                                config={"display_name": "tw-1"})
    assert job.name.startswith("batches/") and job.display_name == "tw-1"
    assert job.state == types.JobState.JOB_STATE_PENDING
    seen = {job.state}
    while not job.done:
        time.sleep(0.05)
        job = client.batches.get(name=job.name)
        seen.add(job.state)
    assert types.JobState.JOB_STATE_RUNNING in seen
    assert job.state == types.JobState.JOB_STATE_SUCCEEDED
    first, second, third = job.dest.inlined_responses
    assert first.response.text == "Paris." and first.response.usage_metadata.prompt_token_count > 0
    assert second.response is None and second.error.code == 14  # UNAVAILABLE as a google.rpc.Status
    assert third.metadata == {"key": "k3"}
    assert emu.batches.answered == 3


def test_file_input_uploads_through_files_api_and_answers_in_a_responses_file(emulator):
    emu = emulator([Rule(user="n=(?P<n>\\d+)", reply="got $n")])
    client = _client(emu)
    lines = "".join(json.dumps({"key": f"r{i}", "request": _request(f"n={i}")}) + "\n" for i in range(3))
    uploaded = client.files.upload(file=io.BytesIO(lines.encode()),
                                   config={"mime_type": "application/jsonl", "display_name": "in"})
    assert uploaded.name.startswith("files/") and uploaded.size_bytes == len(lines.encode())
    job = client.batches.create(model=MODEL, src=uploaded.name, config={"display_name": "tw-file"})
    job = _wait(client, job.name)
    assert job.state == types.JobState.JOB_STATE_SUCCEEDED and job.dest.file_name
    out = client.files.download(file=job.dest.file_name).decode().splitlines()
    rows = {json.loads(line)["key"]: json.loads(line) for line in out}
    assert rows["r2"]["response"]["candidates"][0]["content"]["parts"][0]["text"] == "got 2"


def test_list_cancel_delete_and_job_fates(emulator):
    emu = emulator([Rule(reply="ok")], batch=BatchSettings(pending_s=30, fates=["succeeded", "expired"]))
    client = _client(emu)
    slow = client.batches.create(model=MODEL, src=[_request("a")], config={"display_name": "slow"})
    second = client.batches.create(model=MODEL, src=[_request("b")], config={"display_name": "doomed"})
    names = {j.display_name for j in client.batches.list()}
    assert names == {"slow", "doomed"}
    with pytest.raises(errors.ClientError) as running:
        client.batches.delete(name=slow.name)  # still pending: cancel first
    assert running.value.code == 400
    client.batches.cancel(name=slow.name)
    assert client.batches.get(name=slow.name).state == types.JobState.JOB_STATE_CANCELLED
    client.batches.delete(name=slow.name)
    with pytest.raises(errors.ClientError) as gone:
        client.batches.get(name=slow.name)
    assert gone.value.code == 404
    emu.batches.settings.pending_s = 0
    doomed = client.batches.get(name=second.name)
    assert doomed.state == types.JobState.JOB_STATE_EXPIRED and doomed.dest is None
    assert emu.batches.answered == 0  # nothing ran: nothing billed


def test_strict_create_refuses_what_google_refuses(emulator):
    emu = emulator([Rule(reply="ok")])
    client = _client(emu)
    with pytest.raises(errors.ClientError) as unknown_model:
        client.batches.create(model="gemini-0-nope", src=[_request("a")], config={"display_name": "x"})
    assert unknown_model.value.code == 404
    with pytest.raises(errors.ClientError) as no_name:
        client.batches.create(model=MODEL, src=[_request("a")])
    assert no_name.value.code == 400
    big = "x" * (21 * 1024 * 1024)
    with pytest.raises(errors.ClientError) as too_big:
        client.batches.create(model=MODEL, src=[_request(big)], config={"display_name": "big"})
    assert too_big.value.code == 400 and "20971520" in too_big.value.message
    # a request the model refuses is that request's error, not the job's
    bad = {**_request("a"), "config": {"thinking_config": {"thinking_level": "minimal", "thinking_budget": 5}}}
    job = _wait(client, client.batches.create(model=MODEL, src=[bad, _request("b")],
                                              config={"display_name": "mixed"}).name)
    refused, fine = job.dest.inlined_responses
    assert refused.error.code == 3 and fine.response.text == "ok"
