"""`tierwise batch --api batch`: every stage call's attempt, collected per model and sent as one Gemini Batch API
job when no more are coming; each answer resolves its waiting attempt in the one call path (calls/deferred.py).

When a job goes out: when every item in flight is waiting on an answer (nothing else can come), or when no
request for that model came for `window_s` (the rest are still thinking or sleeping before a retry; at most
`max_wait_s` after its first), or when the queue reaches `max_requests`. A 1,000-item run thus makes about one job
per stage and model, not 1,000 requests.

Exactly once across crashes (the job journal, OUT.jobs.jsonl, fsync'ed line by line):
- each attempt has a stable key: its item, stage, model, request body and occurrence (a retry is the next
  occurrence), so a resumed run asks for the same keys in the same order;
- a job's display name and its keys are journaled BEFORE it is created, its name after;
- on resume, a journaled job is re-attached (by its name; else found by its display name in the job list, in case
  the process died between the create and the journal line); only a job Google never created is sent again;
- each answer's CallRecord has the key as `call_id`, and the ledger keeps one row per call_id.
Jobs that end FAILED, CANCELLED or EXPIRED, and per-request errors, come back as that attempt's HTTP error: the
loop retries (into a later job) or falls back, as for any failed call. Ctrl-C leaves submitted jobs running.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierwise.calls.deferred import DeferredAnswer
from tierwise.calls.endpoint import Endpoint
from tierwise.errors import BackendUnavailableError, InputFileError, InvalidInputError
from tierwise.strict import loads_json

from .items import BatchInputError

GEMINI_URL = "https://generativelanguage.googleapis.com"
INLINE_LIMIT_BYTES = 20 * 1024 * 1024  # Google's limit on a job's inline requests; a JSONL file beyond it
_HEADROOM = 64 * 1024  # the envelope around the requests
ENDED = {"BATCH_STATE_SUCCEEDED", "BATCH_STATE_FAILED", "BATCH_STATE_CANCELLED", "BATCH_STATE_EXPIRED"}
# google.rpc.Code of a per-request error → the HTTP status google-genai raises it with (so the loop classifies it)
_HTTP = {1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 11: 400, 12: 501,
         13: 500, 14: 503, 15: 500, 16: 401}
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL", 501: "NOT_IMPLEMENTED",
           503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
# a job that ended without answers: every request in it fails so (transient: it goes into a later job)
_JOB_ENDED_BADLY = {"BATCH_STATE_FAILED": 500, "BATCH_STATE_CANCELLED": 503, "BATCH_STATE_EXPIRED": 504}


def refuse_vertex(endpoint: Endpoint) -> None:
    if endpoint.kind == "vertex":
        raise InvalidInputError("--api batch uses the Gemini API's Batch API; Vertex AI batch prediction needs Cloud "
                                "Storage or BigQuery, which tierwise does not manage: use the gemini backend (an API "
                                "key) or --api standard")


@dataclass
class Job:
    display: str
    model: str
    keys: list[str]
    name: str | None = None
    state: str = "BATCH_STATE_PENDING"
    from_file: bool = False


@dataclass
class JobCounts:
    """What the progress line and the summary show."""

    submitted: int = 0  # created by this run
    reattached: int = 0  # created by an earlier run, picked up again
    requests: int = 0  # requests this run put into jobs
    states: Counter[str] = field(default_factory=Counter)

    def describe(self) -> str:
        live = ", ".join(f"{n} {s.removeprefix('BATCH_STATE_').lower()}" for s, n in sorted(self.states.items()) if n)
        return f"jobs: {live or 'none yet'}"


class JobJournal:
    """OUT.jobs.jsonl: the run id, each job (display name, model, keys) before its creation, its name after."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def open(self, *, resume: bool) -> tuple[str, dict[str, Job]]:
        jobs: dict[str, Job] = {}
        run_id = ""
        if resume and self.path.exists():
            lines = self.path.read_bytes().split(b"\n")
            for number, raw in enumerate(lines, start=1):
                if not raw.strip():
                    continue
                try:  # stored state is not trusted: the strict layer, and a named refusal for an edited line
                    line = loads_json(raw, source=self.path, line=number)
                except InputFileError as exc:
                    if number >= len(lines) - 1:
                        continue  # a torn last line: its job was not created (the create comes after the fsync)
                    raise BatchInputError(f"{exc}; the jobs journal is damaged: resume is not safe (use --overwrite)"
                                          ) from None
                try:
                    op = line.get("op")
                    if op == "run":
                        run_id = str(line["run"])
                    elif op == "job":
                        jobs[line["job"]] = Job(line["job"], line["model"], list(line["keys"]),
                                                from_file=bool(line.get("file")))
                    elif op == "created" and line["job"] in jobs:
                        jobs[line["job"]].name = line["name"]
                    elif op == "ended" and line["job"] in jobs:
                        jobs[line["job"]].state = line["state"]
                except (KeyError, TypeError, AttributeError):
                    raise BatchInputError("not a jobs journal line (edited by hand?); resume is not safe (use "
                                          "--overwrite)", source=self.path, line=number) from None
        flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_APPEND if resume else os.O_TRUNC)
        self._fd = os.open(self.path, flags, 0o666)
        if not run_id:
            run_id = secrets.token_hex(4)
            self.write({"op": "run", "run": run_id})
        return run_id, jobs

    def write(self, line: dict[str, Any]) -> None:
        """One line, on disk before this returns (a job's line must survive a kill -9 before it is created)."""
        assert self._fd is not None
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode()
        written = 0
        while written < len(data):
            written += os.write(self._fd, data[written:])
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class BatchJobs:
    """The collector behind `DeferredTransport` for one batch run (see the module docstring)."""

    processing = "batch"

    def __init__(self, endpoint: Endpoint, journal_path: Path, *, window_s: float = 2.0, max_wait_s: float = 30.0,
                 poll_s: tuple[float, float] = (1.0, 30.0), max_requests: int = 50_000,
                 inline_limit: int | None = None, on_change: Callable[[], None] | None = None) -> None:
        refuse_vertex(endpoint)
        self.endpoint = endpoint
        self.journal = JobJournal(journal_path)
        self.window_s, self.max_wait_s, self.poll_s, self.max_requests = window_s, max_wait_s, poll_s, max_requests
        self.inline_limit = INLINE_LIMIT_BYTES if inline_limit is None else inline_limit
        self.on_change = on_change or (lambda: None)
        self.counts = JobCounts()
        self.run_id = ""
        self.active = 0  # items in flight (the runner says)
        self._jobs: dict[str, Job] = {}
        self._job_of_key: dict[str, str] = {}
        self._results: dict[str, DeferredAnswer] = {}
        self._waiters: dict[str, asyncio.Future[DeferredAnswer]] = {}
        self._pending: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
        self._first: dict[str, float] = {}  # per model: when its queue's first and latest requests came
        self._last: dict[str, float] = {}
        self._seen: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._kick = asyncio.Event()
        self._http: Any = None

    # ------------------------------------------------------------------------------------------ lifecycle
    async def start(self, *, resume: bool) -> None:
        import httpx

        self.run_id, self._jobs = self.journal.open(resume=resume)
        self._http = httpx.AsyncClient(base_url=(self.endpoint.base_url or GEMINI_URL).rstrip("/") + "/v1beta/",
                                       headers={"x-goog-api-key": self.endpoint.api_key}, timeout=120.0)
        unnamed = [job for job in self._jobs.values() if job.name is None]
        if unnamed:  # died between journaling a job and learning its name: did Google create it?
            try:
                found = await self._find_by_display({job.display for job in unnamed})
            except _HttpError as exc:  # without the list we cannot tell: stop rather than pay twice
                raise BackendUnavailableError(
                    f"cannot list the Batch API jobs to re-attach to the earlier run's (HTTP {exc.status}); nothing "
                    "was sent: run the same command again when the endpoint answers") from None
            for job in unnamed:
                if job.display in found:
                    job.name = found[job.display]
                    self.journal.write({"op": "created", "job": job.display, "name": job.name})
        for job in self._jobs.values():
            if job.name is None:
                continue  # never created: its requests are sent again, in a new job, when they are asked for
            for key in job.keys:
                self._job_of_key[key] = job.display
            self.counts.reattached += 1
            self.counts.states[job.state] += 1
            self._spawn(self._watch(job))
        self._spawn(self._schedule())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
        self.journal.close()

    def item_finished(self) -> None:
        self.active -= 1
        self._kick.set()

    # ------------------------------------------------------------------------------------------ the collector
    async def send(self, model: str, body: bytes, scope: str) -> DeferredAnswer:
        digest = hashlib.sha256(f"{scope}\n{model}\n".encode() + body).hexdigest()[:24]
        occurrence = self._seen[digest]
        self._seen[digest] += 1
        key = f"{self.run_id}-{digest}-{occurrence}"
        if key in self._results:
            return self._results.pop(key)
        future: asyncio.Future[DeferredAnswer] = asyncio.get_running_loop().create_future()
        self._waiters[key] = future
        if key not in self._job_of_key:
            self._first.setdefault(model, time.monotonic())
            self._last[model] = time.monotonic()
            self._pending[model].append((key, body))
        self._kick.set()
        try:
            return await future
        finally:
            self._waiters.pop(key, None)
            if future.cancelled():  # Ctrl-C or the item gave up: drop it if it was not sent yet
                self._pending[model] = [(k, b) for k, b in self._pending[model] if k != key]

    async def _schedule(self) -> None:
        while True:
            now = time.monotonic()
            wait = min((self._due(model) - now for model in self._first), default=None)
            try:
                await asyncio.wait_for(self._kick.wait(), timeout=None if wait is None else max(wait, 0.0))
            except TimeoutError:
                pass
            self._kick.clear()
            waiting_all = self.active > 0 and len(self._waiters) >= self.active
            now = time.monotonic()
            for model in list(self._pending):
                queue = self._pending[model]
                if not queue:
                    self._first.pop(model, None)
                    continue
                if waiting_all or now >= self._due(model) or len(queue) >= self.max_requests:
                    self._pending[model] = []
                    self._first.pop(model, None)
                    for start in range(0, len(queue), self.max_requests):
                        await self._submit(model, queue[start:start + self.max_requests])

    def _due(self, model: str) -> float:
        """When `model`'s queue goes out if not everything waits before: `window_s` without a new request for it,
        at most `max_wait_s` after its first."""
        return min(self._last.get(model, 0.0) + self.window_s, self._first[model] + self.max_wait_s)

    async def _submit(self, model: str, entries: list[tuple[str, bytes]]) -> None:
        display = f"tierwise-{self.run_id}-{len(self._jobs) + 1:05d}"
        requests = [json.loads(body) for _, body in entries]
        keys = [key for key, _ in entries]
        size = sum(len(body) for _, body in entries) + _HEADROOM
        from_file = size > self.inline_limit
        job = Job(display, model, keys, from_file=from_file)
        self._jobs[display] = job
        self.journal.write({"op": "job", "job": display, "model": model, "keys": keys, "file": from_file})
        for key in keys:
            self._job_of_key[key] = display
        try:
            job.name = await self._create(job, requests)
        except Exception as exc:  # noqa: BLE001 - refused (a 4xx) or unknown: each request gets that error
            if not isinstance(exc, _HttpError):
                exc = _HttpError(503, _error_body(503, f"the batch job could not be created: {type(exc).__name__}"))
            self.journal.write({"op": "ended", "job": display, "state": "NOT_CREATED", "error": exc.status})
            self._resolve_all(job, exc.status, exc.body)
            return
        self.journal.write({"op": "created", "job": display, "name": job.name})
        self.counts.submitted += 1
        self.counts.requests += len(keys)
        self.counts.states[job.state] += 1
        self.on_change()
        self._spawn(self._watch(job))

    async def _create(self, job: Job, requests: list[dict[str, Any]]) -> str:
        if job.from_file:
            lines = "".join(json.dumps({"key": k, "request": r}, ensure_ascii=False) + "\n"
                            for k, r in zip(job.keys, requests, strict=True))
            source: dict[str, Any] = {"fileName": await self._upload(lines.encode(), job.display)}
        else:
            source = {"requests": {"requests": [{"request": r, "metadata": {"key": k}}
                                                for k, r in zip(job.keys, requests, strict=True)]}}
        body = {"batch": {"displayName": job.display, "inputConfig": source}}
        answer = await self._call("POST", f"models/{job.model}:batchGenerateContent", json=body)
        name: str = answer["name"]
        return name

    async def _upload(self, data: bytes, display: str) -> str:
        """A JSONL input file through the Files API (google-genai speaks its resumable upload)."""
        from google import genai
        from google.genai import types

        client = genai.Client(api_key=self.endpoint.api_key,
                              http_options=types.HttpOptions(base_url=self.endpoint.base_url or GEMINI_URL))
        uploaded = await client.aio.files.upload(file=io.BytesIO(data), config={
            "mime_type": "application/jsonl", "display_name": display})
        return str(uploaded.name)

    async def _watch(self, job: Job) -> None:
        """Poll the job until it ends, then answer its waiting attempts (and keep the answers not asked for yet).
        Whatever goes wrong here answers the job's attempts with an error: an attempt is never left waiting."""
        try:
            await self._poll(job)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - an unreadable answer: the attempts fail (and may retry)
            self._resolve_all(job, 500, _error_body(500, f"batch job {job.name}: unreadable result "
                                                    f"({type(exc).__name__}: {exc})"[:300]))

    async def _poll(self, job: Job) -> None:
        delay = self.poll_s[0]
        while True:
            try:
                operation = await self._call("GET", str(job.name))
            except _HttpError as exc:
                if exc.status == 404:  # deleted behind our back: its requests failed
                    self._end(job, "BATCH_STATE_FAILED")
                    self._resolve_all(job, 503, _error_body(503, f"batch job {job.name} is gone (deleted)"))
                    return
                if exc.status in (401, 403):  # the key no longer works: as a live call would fail
                    self._resolve_all(job, exc.status, exc.body)
                    return
                operation = None  # transient: poll again
            if operation is not None:
                meta = operation.get("metadata") or {}
                state = meta.get("state", job.state)
                if state != job.state and state in ENDED:
                    self._end(job, state)
                elif state != job.state:
                    self._move(job, state)
                if state in ENDED:
                    await self._answer(job, state, meta.get("output") or operation.get("response") or {})
                    return
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, self.poll_s[1])

    async def _answer(self, job: Job, state: str, output: dict[str, Any]) -> None:
        if state != "BATCH_STATE_SUCCEEDED":
            code = _JOB_ENDED_BADLY.get(state, 500)
            ended = state.removeprefix("BATCH_STATE_")
            self._resolve_all(job, code, _error_body(code, f"batch job {job.name} ended {ended} without answering "
                                                     "this request"))
            return
        if job.from_file or "responsesFile" in output:
            rows = await self._download(output["responsesFile"])
            by_key = {str(row.get("key")): row for row in rows}
            answers = [by_key.get(key, {}) for key in job.keys]
        else:
            answers = (output.get("inlinedResponses") or {}).get("inlinedResponses") or []
        for index, key in enumerate(job.keys):
            row = answers[index] if index < len(answers) else {}
            if isinstance(row.get("response"), dict):
                self._resolve(key, DeferredAnswer(200, json.dumps(row["response"]).encode(), key))
            else:
                error = row.get("error") or {"code": 13, "message": "the batch output has no answer for this request"}
                status = _HTTP.get(int(error.get("code", 13)), 500)
                self._resolve(key, DeferredAnswer(status, _error_body(status, str(error.get("message", "")),
                                                                      error.get("details")), key))

    async def _download(self, name: str) -> list[dict[str, Any]]:
        response = await self._http.get(f"{name}:download", params={"alt": "media"})
        if response.status_code != 200:
            raise _HttpError(response.status_code, response.content)
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]

    def _resolve_all(self, job: Job, status: int, body: bytes) -> None:
        for key in job.keys:
            self._resolve(key, DeferredAnswer(status, body, key))

    def _resolve(self, key: str, answer: DeferredAnswer) -> None:
        self._job_of_key.pop(key, None)
        future = self._waiters.get(key)
        if future is not None and not future.done():
            future.set_result(answer)
        else:
            self._results[key] = answer  # a resumed run asks for it later (or never, if its stage was cached)

    def _move(self, job: Job, state: str) -> None:
        self.counts.states[job.state] -= 1
        self.counts.states[state] += 1
        job.state = state
        self.on_change()

    def _end(self, job: Job, state: str) -> None:
        self._move(job, state)
        self.journal.write({"op": "ended", "job": job.display, "state": state})

    async def _find_by_display(self, displays: set[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        token: str | None = None
        while True:
            page = await self._call("GET", "batches", params={"pageSize": 1000, **({"pageToken": token} if token
                                                                                   else {})})
            for operation in page.get("operations") or []:
                display = (operation.get("metadata") or {}).get("displayName")
                if display in displays:
                    found[display] = operation["name"]
            token = page.get("nextPageToken")
            if not token or len(found) == len(displays):
                return found

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        import httpx

        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise _HttpError(503, _error_body(503, f"the Batch API could not be reached: {exc}")) from None
        if response.status_code != 200:
            raise _HttpError(response.status_code, response.content)
        answer: dict[str, Any] = response.json()
        return answer

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _HttpError(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def _error_body(status: int, message: str, details: Any = None) -> bytes:
    error: dict[str, Any] = {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}
    if details:
        error["details"] = details
    return json.dumps({"error": error}).encode()
