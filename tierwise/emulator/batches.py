"""The Gemini Batch API and the Files API it reads from, as the emulator serves them (Gemini Developer API only).

Routes (as google-genai 2.x sends them; see its batches.py and files.py converters):

    POST   /v1beta/models/{model}:batchGenerateContent   {"batch": {displayName, inputConfig, priority?}}
    GET    /v1beta/batches/{id}        GET /v1beta/batches?pageSize=&pageToken=
    POST   /v1beta/batches/{id}:cancel                    DELETE /v1beta/batches/{id}
    POST   /upload/v1beta/files  (resumable: start, then "upload, finalize" at the returned X-Goog-Upload-URL)
    GET    /v1beta/files/{id}            GET /v1beta/files/{id}:download?alt=media

A job is an Operation: `metadata` (the GenerateContentBatch: model, displayName, state BATCH_STATE_*, times,
batchStats, and `output` once it ended) and `done`. Inline input (`inputConfig.requests.requests[i] = {request,
metadata}`) is limited to 20 MB; beyond, a JSONL file (`{"key", "request"}` per line) goes through the Files API
and the output is a JSONL file (`{"key", "response"|"error"}`) named in `output.responsesFile`. A request the
model refuses, or a fault the emulator injects, is that request's `error` (a google.rpc.Status), not the job's.

Time: a job stays PENDING `pending_s`, RUNNING `running_s`, then ends; its requests are answered when it ends
(on the first read after that). `fates` (consumed one per created job: "succeeded", "failed", "expired",
"cancelled") injects job-level outcomes. Counters (`created`, `answered`) let tests check nothing ran twice.
"""

from __future__ import annotations

import builtins
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .backend import BackendError

INLINE_LIMIT_BYTES = 20 * 1024 * 1024  # Google: inline requests up to 20 MB in total; a file beyond
FILE_LIMIT_BYTES = 2 * 1024 * 1024 * 1024  # Files API: 2 GB per file
_BATCH_KEYS = {"displayName", "inputConfig", "priority", "webhookConfig"}
_OUTPUT_ONLY = {"name", "output", "createTime", "endTime", "updateTime", "batchStats", "state", "model"}
_ENDED = {"BATCH_STATE_SUCCEEDED", "BATCH_STATE_FAILED", "BATCH_STATE_CANCELLED", "BATCH_STATE_EXPIRED"}
_FATES = {"succeeded": "BATCH_STATE_SUCCEEDED", "failed": "BATCH_STATE_FAILED", "expired": "BATCH_STATE_EXPIRED",
          "cancelled": "BATCH_STATE_CANCELLED"}
# HTTP status of an emulated error → google.rpc.Code, as a per-request error carries it
_RPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 429: 8, 499: 1, 500: 13, 501: 12, 503: 14, 504: 4}
_TYPE_BATCH = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"
_TYPE_OUTPUT = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput"


@dataclass
class BatchSettings:
    """How the emulated Batch API behaves: how long jobs take and which of them end badly."""

    pending_s: float = 0.0
    running_s: float = 0.0
    fates: deque[str] = field(default_factory=deque)  # one per created job, in order; empty: succeeded

    def __post_init__(self) -> None:
        self.fates = deque(self.fates)
        unknown = [f for f in self.fates if f not in _FATES]
        if unknown:
            raise ValueError(f"unknown batch fate {unknown[0]!r}; known: {', '.join(sorted(_FATES))}")


@dataclass
class _File:
    id: str
    display_name: str
    mime_type: str
    size: int
    data: bytes | None = None  # None until the upload is finalized
    generated: bool = False
    created: str = ""

    def resource(self, base: str) -> dict[str, Any]:
        out = {"name": f"files/{self.id}", "mimeType": self.mime_type, "sizeBytes": str(self.size),
               "createTime": self.created, "updateTime": self.created, "state": "ACTIVE",
               "uri": f"{base}/v1beta/files/{self.id}", "source": "GENERATED" if self.generated else "UPLOADED"}
        if self.display_name:
            out["displayName"] = self.display_name
        if self.generated:
            out["downloadUri"] = f"{base}/v1beta/files/{self.id}:download?alt=media"
        return out


@dataclass
class _Job:
    id: str
    model: str
    display_name: str
    requests: list[tuple[str | None, dict[str, Any], Any]]  # (file key, request, inline metadata)
    from_file: bool
    created_at: float
    created: str
    fate: str
    state: str = "BATCH_STATE_PENDING"
    ended: str | None = None
    output: dict[str, Any] | None = None
    stats: dict[str, str] = field(default_factory=dict)


class BatchStore:
    """Jobs and files of one emulator. `answer(model, request) -> (response dict | None, error dict | None)`
    runs one request through the emulator's generate path (its checks, backend and faults)."""

    def __init__(self, answer: Callable[[str, dict[str, Any]], tuple[dict[str, Any] | None, dict[str, Any] | None]],
                 known_model: Callable[[str], bool], settings: BatchSettings | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._answer = answer
        self._known = known_model
        self.settings = settings or BatchSettings()
        self._clock = clock
        self._jobs: dict[str, _Job] = {}
        self._files: dict[str, _File] = {}
        self._uploads: dict[str, str] = {}  # upload id → file id
        self._lock = threading.RLock()
        self.created: list[str] = []  # display names of created jobs, in order
        self.answered = 0  # requests run (and billed) by ended jobs

    # ------------------------------------------------------------------------------------------ batches
    def create(self, model: str, payload: Any, raw_size: int) -> dict[str, Any]:
        if not isinstance(payload, dict) or set(payload) - {"batch"}:
            extra = sorted(set(payload) - {"batch"})[0] if isinstance(payload, dict) else None
            raise BackendError(400, f'Invalid JSON payload received. Unknown name "{extra}": Cannot find field.'
                               if extra else "Invalid JSON payload received. Expected an object.")
        batch = payload.get("batch")
        if not isinstance(batch, dict):
            raise BackendError(400, "batch is required.")
        for key in batch:
            if key in _OUTPUT_ONLY:
                continue  # output-only fields are ignored, as Google ignores them
            if key not in _BATCH_KEYS:
                raise BackendError(400, f'Invalid JSON payload received. Unknown name "{key}" at \'batch\': '
                                   "Cannot find field.")
        display = batch.get("displayName")
        if not isinstance(display, str) or not display:
            raise BackendError(400, "batch.display_name is required.")
        if not self._known(model):
            raise BackendError(404, f"models/{model} is not found for API version v1beta, or is not supported "
                               "for batchGenerateContent.")
        config = batch.get("inputConfig")
        if not isinstance(config, dict) or not config:
            raise BackendError(400, "batch.input_config is required.")
        sources = [k for k in ("fileName", "requests") if k in config]
        unknown = set(config) - {"fileName", "requests"}
        if unknown:
            raise BackendError(400, f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}" at '
                               "'batch.input_config': Cannot find field.")
        if len(sources) != 1:
            raise BackendError(400, "batch.input_config: exactly one of file_name or requests must be set.")
        if "requests" in config:
            if raw_size > INLINE_LIMIT_BYTES:
                raise BackendError(400, f"Request payload size exceeds the limit: {INLINE_LIMIT_BYTES} bytes. "
                                   "Use a file (the Files API) for larger batches.")
            requests = self._inline(config["requests"])
            from_file = False
        else:
            requests = self._from_file(config["fileName"])
            from_file = True
        with self._lock:
            job_id = secrets.token_hex(8)
            fate = self.settings.fates.popleft() if self.settings.fates else "succeeded"
            job = _Job(job_id, model, display, requests, from_file, self._clock(), _now(), fate)
            self._jobs[job_id] = job
            self.created.append(display)
            return self._operation(job)

    def get(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            return self._operation(self._job(job_id))

    def list_jobs(self, page_size: int | None, page_token: str | None) -> dict[str, Any]:
        with self._lock:
            ids = sorted(self._jobs, key=lambda i: self._jobs[i].created_at, reverse=True)
            start = int(page_token) if page_token and page_token.isdigit() else 0
            size = min(max(page_size or 50, 1), 1000)
            page = [self._operation(self._jobs[i]) for i in ids[start:start + size]]
            out: dict[str, Any] = {"operations": page}
            if start + size < len(ids):
                out["nextPageToken"] = str(start + size)
            return out

    def cancel(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            job = self._job(job_id)
            self._advance(job)
            if job.state not in _ENDED:
                self._end(job, "BATCH_STATE_CANCELLED")
            return {}

    def delete(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            job = self._job(job_id)
            self._advance(job)
            if job.state not in _ENDED:
                raise BackendError(400, f"batches/{job_id} is still running: cancel it before deleting it.",
                                   "FAILED_PRECONDITION")
            del self._jobs[job_id]
            return {}

    def _job(self, job_id: str) -> _Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise BackendError(404, f"Batch batches/{job_id} not found.", "NOT_FOUND")
        return job

    def _inline(self, container: Any) -> builtins.list[tuple[str | None, dict[str, Any], Any]]:
        if not isinstance(container, dict) or set(container) - {"requests"}:
            raise BackendError(400, "batch.input_config.requests: expected {\"requests\": [...]}.")
        items = container.get("requests")
        if not isinstance(items, list) or not items:
            raise BackendError(400, "batch.input_config.requests.requests must not be empty.")
        out: list[tuple[str | None, dict[str, Any], Any]] = []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("request"), dict) or set(item) - {
                    "request", "metadata"}:
                raise BackendError(400, f"batch.input_config.requests.requests[{i}]: expected "
                                   "{\"request\": GenerateContentRequest, \"metadata\"?}.")
            out.append((None, item["request"], item.get("metadata")))
        return out

    def _from_file(self, name: Any) -> builtins.list[tuple[str | None, dict[str, Any], Any]]:
        file_id = name.removeprefix("files/") if isinstance(name, str) else ""
        file = self._files.get(file_id)
        if file is None or file.data is None:
            raise BackendError(404, f"File {name} not found.", "NOT_FOUND")
        out: list[tuple[str | None, dict[str, Any], Any]] = []
        for number, line in enumerate(file.data.decode("utf-8", "replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise BackendError(400, f"{name}: line {number} is not JSON.") from None
            if not isinstance(row, dict) or not isinstance(row.get("request"), dict):
                raise BackendError(400, f"{name}: line {number}: expected {{\"key\", \"request\"}}.")
            out.append((str(row.get("key", number)), row["request"], None))
        if not out:
            raise BackendError(400, f"{name} holds no requests.")
        return out

    def _advance(self, job: _Job) -> None:
        """Move `job` along its timeline; run its requests when it ends."""
        if job.state in _ENDED:
            return
        age = self._clock() - job.created_at
        if age < self.settings.pending_s:
            return
        if age < self.settings.pending_s + self.settings.running_s:
            job.state = "BATCH_STATE_RUNNING"
            return
        self._end(job, _FATES[job.fate])

    def _end(self, job: _Job, state: str) -> None:
        job.state, job.ended = state, _now()
        count = len(job.requests)
        if state != "BATCH_STATE_SUCCEEDED":  # nothing ran, nothing is billed
            job.stats = {"requestCount": str(count), "failedRequestCount": str(count) if state ==
                         "BATCH_STATE_FAILED" else "0"}
            job.requests = []
            return
        results = []
        for key, request, metadata in job.requests:
            response, error = self._run(job.model, request)
            results.append((key, response, error, metadata))
        self.answered += count
        failed = sum(error is not None for _, _, error, _ in results)
        job.stats = {"requestCount": str(count), "successfulRequestCount": str(count - failed),
                     "failedRequestCount": str(failed)}
        if job.from_file:
            lines = "".join(json.dumps({"key": key, **({"response": r} if e is None else {"error": e})},
                                       ensure_ascii=False) + "\n" for key, r, e, _ in results).encode()
            out = _File(secrets.token_hex(8), f"batch-{job.id}", "application/jsonl", len(lines), lines, True, _now())
            self._files[out.id] = out
            job.output = {"@type": _TYPE_OUTPUT, "responsesFile": f"files/{out.id}"}
        else:
            inlined = []
            for _, response, error, metadata in results:
                entry: dict[str, Any] = {"response": response} if error is None else {"error": error}
                if metadata is not None:
                    entry["metadata"] = metadata
                inlined.append(entry)
            job.output = {"@type": _TYPE_OUTPUT, "inlinedResponses": {"inlinedResponses": inlined}}
        job.requests = []

    def _run(self, model: str, request: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        named = request.get("model")
        if named is not None and named not in (model, f"models/{model}"):
            return None, rpc_status(BackendError(400, f"request.model {named!r} differs from the batch's "
                                                 f"models/{model}."))
        body = {k: v for k, v in request.items() if k != "model"}
        return self._answer(model, body)

    def _operation(self, job: _Job) -> dict[str, Any]:
        self._advance(job)
        meta: dict[str, Any] = {"@type": _TYPE_BATCH, "model": f"models/{job.model}", "displayName": job.display_name,
                                "createTime": job.created, "updateTime": job.ended or job.created,
                                "state": job.state, "name": f"batches/{job.id}"}
        meta["batchStats"] = job.stats or {"requestCount": str(len(job.requests)),
                                           "pendingRequestCount": str(len(job.requests))}
        if job.ended:
            meta["endTime"] = job.ended
        out: dict[str, Any] = {"name": f"batches/{job.id}", "metadata": meta}
        if job.state in _ENDED:
            out["done"] = True
            if job.output is not None:
                meta["output"] = job.output
                out["response"] = {**job.output, "@type": _TYPE_OUTPUT}
            elif job.state == "BATCH_STATE_FAILED":
                out["error"] = {"code": 13, "message": "The batch failed."}
        return out

    # ------------------------------------------------------------------------------------------ files
    def upload_start(self, payload: Any, headers: Any, base: str) -> tuple[dict[str, Any], dict[str, str]]:
        if headers.get("X-Goog-Upload-Protocol", "").lower() != "resumable" or \
                headers.get("X-Goog-Upload-Command", "").lower() != "start":
            raise BackendError(400, "Only resumable uploads are supported: X-Goog-Upload-Protocol: resumable and "
                               "X-Goog-Upload-Command: start.")
        try:
            size = int(headers.get("X-Goog-Upload-Header-Content-Length", ""))
        except ValueError:
            raise BackendError(400, "X-Goog-Upload-Header-Content-Length is required.") from None
        if size <= 0 or size > FILE_LIMIT_BYTES:
            raise BackendError(400, f"File size must be 1 byte to {FILE_LIMIT_BYTES} bytes, got {size}.")
        meta = (payload or {}).get("file") or {} if isinstance(payload, dict) else {}
        mime = headers.get("X-Goog-Upload-Header-Content-Type") or meta.get("mimeType") or "application/octet-stream"
        with self._lock:
            file = _File(secrets.token_hex(8), str(meta.get("displayName") or ""), mime, size, created=_now())
            self._files[file.id] = file
            upload = secrets.token_urlsafe(12)
            self._uploads[upload] = file.id
        url = f"{base}/upload/v1beta/files?upload_id={upload}&upload_protocol=resumable"
        return {}, {"X-Goog-Upload-URL": url, "X-Goog-Upload-Status": "active"}

    def upload_chunk(self, upload: str, data: bytes, headers: Any, base: str,
                     parts: dict[str, bytearray]) -> tuple[dict[str, Any], dict[str, str]]:
        with self._lock:
            file_id = self._uploads.get(upload)
            if file_id is None:
                raise BackendError(404, "Unknown upload id.", "NOT_FOUND")
            file = self._files[file_id]
            command = {c.strip() for c in headers.get("X-Goog-Upload-Command", "").lower().split(",")}
            buffer = parts.setdefault(upload, bytearray())
            if int(headers.get("X-Goog-Upload-Offset", "-1")) != len(buffer):
                raise BackendError(400, "X-Goog-Upload-Offset does not match the bytes received so far.")
            buffer += data
            if "finalize" not in command:
                return {}, {"X-Goog-Upload-Status": "active"}
            if len(buffer) != file.size:
                raise BackendError(400, f"Upload size {len(buffer)} differs from the declared {file.size} bytes.")
            file.data = bytes(buffer)
            del self._uploads[upload]
            parts.pop(upload, None)
            return {"file": file.resource(base)}, {"X-Goog-Upload-Status": "final"}

    def file(self, file_id: str, base: str) -> dict[str, Any]:
        with self._lock:
            found = self._files.get(file_id)
            if found is None or found.data is None:
                raise BackendError(403, f"You do not have permission to access the File {file_id} or it may not "
                                   "exist.", "PERMISSION_DENIED")
            return found.resource(base)

    def download(self, file_id: str) -> bytes:
        with self._lock:
            found = self._files.get(file_id)
            if found is None or found.data is None:
                raise BackendError(404, f"File files/{file_id} not found.", "NOT_FOUND")
            if not found.generated:
                raise BackendError(400, "Only generated files can be downloaded.")
            return found.data

    def jobs(self) -> Iterable[dict[str, Any]]:
        with self._lock:
            return [self._operation(job) for job in self._jobs.values()]


def rpc_status(err: BackendError) -> dict[str, Any]:
    """A per-request error as a batch output carries it: a google.rpc.Status (gRPC code, message, details)."""
    out: dict[str, Any] = {"code": _RPC_CODES.get(err.code, 2), "message": err.message}
    if err.details:
        out["details"] = err.details
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
