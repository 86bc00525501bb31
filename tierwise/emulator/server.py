"""The HTTP side: a loopback server speaking Gemini's REST routes, and Vertex AI's.

Stdlib ``ThreadingHTTPServer`` (one daemon thread per connection, HTTP/1.1 keep-alive) so the
emulator adds no dependency. Clients send their API key in ``x-goog-api-key`` (or ``?key=``, or a
Vertex ``Authorization: Bearer`` token); the server only compares it with the configured invalid
keys and, when proxying, forwards it upstream. It is never stored, logged or echoed.

Routes: ``/v1beta/models/{model}:{method}`` (Gemini API; also v1, v1alpha) and
``/v1beta1/projects/{p}/locations/{l}/publishers/google/models/{model}:{method}`` (Vertex AI; also
v1, and ``/v1beta1/publishers/google/models/...`` as Vertex express mode sends it).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import secrets
import selectors
import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tierwise.errors import TierwiseError
from tierwise.inputs import named_arguments
from tierwise.locks import OutputLock
from tierwise.outputs import save_with_fallback

from . import faultwire, strict, wire
from .backend import Backend, BackendError, GenerateRequest, Generation, token_limit_error
from .batches import BatchSettings, BatchStore, rpc_status
from .caches import CacheStore
from .catalogue import ModelLimits, build_catalogue
from .faults import Fault, Faults, window_for
from .latency import LatencyModel
from .proxy import Upstream
from .record import Call, Cassette, Exchange

logger = logging.getLogger(__name__)

_GEMINI_ROUTE = re.compile(r"^/(?P<version>v1|v1beta|v1alpha)/models/(?P<model>[^/:]+)(?::(?P<method>\w+))?$")
_VERTEX_ROUTE = re.compile(
    r"^/(?P<version>v1|v1beta1)/(?:projects/[^/]+/locations/[^/]+/)?publishers/google/models/"
    r"(?P<model>[^/:]+)(?::(?P<method>\w+))?$"
)
_LIST_ROUTE = re.compile(r"^/(?:v1|v1beta|v1alpha)/models/?$")
_BATCH_ROUTE = re.compile(r"^/v1beta/batches(?:/(?P<id>[^/:]+)(?::(?P<method>\w+))?)?/?$")
_FILE_ROUTE = re.compile(r"^/(?:download/)?v1beta/files/(?P<id>[^/:]+)(?::(?P<method>download))?$")
_UPLOAD_ROUTE = "/upload/v1beta/files"
_CACHE_ROUTE = re.compile(r"^/v1beta/cachedContents(?:/(?P<id>[^/:]+))?/?$")
_METHODS = ("generateContent", "streamGenerateContent", "countTokens")
_MAX_BODY = 64 * 1024 * 1024
_UNREGISTERED = (
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or "
    "other form of API consumer identity to call this API."
)
# Vertex reports the tier that served a call as usageMetadata.trafficType.
_TRAFFIC_TYPES = {"standard": "ON_DEMAND", "priority": "ON_DEMAND_PRIORITY", "flex": "ON_DEMAND_FLEX"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # listen backlog: bursts of 64+ concurrent connects must not be refused
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator):
        self.emulator = emulator
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = False
        self._stopped = threading.Event()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def serve(self) -> None:
        """Accept until :meth:`stop_serving`; unlike ``serve_forever`` it sleeps instead of polling,
        and stops at once (a test suite starts and stops hundreds of emulators)."""
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                selector.register(self._wake_r, selectors.EVENT_READ)
                while not self._stopping:
                    for key, _ in selector.select():
                        if key.fileobj is self and not self._stopping:
                            # BaseServer's one-request step, as serve_forever uses it; typeshed omits private names.
                            self._handle_request_noblock()  # type: ignore[attr-defined]
        finally:
            self._stopped.set()

    def stop_serving(self) -> None:
        self._stopping = True
        self._wake_w.send(b"\0")
        self._stopped.wait(timeout=5)

    def server_close(self) -> None:
        super().server_close()
        self._wake_r.close()
        self._wake_w.close()

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse-DNS lookup that can stall offline.
        socketserver.TCPServer.server_bind(self)
        host, self.server_port = self.server_address[:2]
        self.server_name = str(host)  # getsockname() gives str for AF_INET(6); typeshed also allows bytes

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)

    def close_connections(self) -> None:
        """Wake idle keep-alive handler threads so they exit instead of waiting for the client."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tierwise-emulator"
    sys_version = ""
    timeout = 300  # idle keep-alive connections are dropped after this many seconds
    # Headers and body go out in separate writes; with Nagle on, the body waited for the client's delayed
    # ACK: ~40 ms added to every call (measured 45-50 ms per request on loopback, 1-2 ms without).
    disable_nagle_algorithm = True
    server: _Server
    _streaming = False  # set once SSE headers are out

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: request lines can carry ``?key=`` and the CLI owns the console."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _dispatch(self, verb: str) -> None:
        url = urlsplit(self.path)
        self._streaming = False
        try:
            raw = self._read_body()
            self._route(verb, url.path, parse_qs(url.query), raw)
        except BackendError as err:
            self._send_json(err.code, wire.error_body(err), err.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a backend bug must reach the client, not kill the connection
            logger.exception("emulator: unhandled error on %s %s", verb, url.path)
            if self._streaming:  # headers already sent: a JSON error now would corrupt the stream
                self.close_connection = True
                return
            self._send_json(500, wire.error_body(BackendError(500, f"{type(exc).__name__}: {exc}")))

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            raise BackendError(400, "Invalid Content-Length.") from None
        if size > _MAX_BODY:
            self.close_connection = True
            raise BackendError(400, f"Request payload size exceeds the limit: {_MAX_BODY} bytes.")
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            body += self.rfile.read(size)
            self.rfile.readline()
            if len(body) > _MAX_BODY:
                self.close_connection = True
                raise BackendError(400, f"Request payload size exceeds the limit: {_MAX_BODY} bytes.")

    def _route(self, verb: str, path: str, query: dict[str, list[str]], raw: bytes) -> None:
        emulator = self.server.emulator
        if verb == "GET" and _LIST_ROUTE.match(path):
            self._send_json(200, {"models": [emulator.model_info(m) for m in emulator.model_ids()]})
            return
        if self._batch_api(verb, path, query, raw) or self._caches(verb, path, query, raw):
            return
        route = _GEMINI_ROUTE.match(path)
        api = "gemini"
        if route is None and (route := _VERTEX_ROUTE.match(path)) is not None:
            api = "vertex"
        if route and verb == "GET" and route["method"] is None:
            self._send_json(200, emulator.model_info(route["model"]))
            return
        if not (route and verb == "POST" and route["method"] in _METHODS):
            raise BackendError(404, f"Method not found: {verb} {path}")
        auth = self._auth(query)
        emulator.authorize(auth)
        try:
            payload = json.loads(raw) if raw.strip() else {}
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError) as exc:
            detail = exc.msg if isinstance(exc, json.JSONDecodeError) else (
                "Invalid UTF-8" if isinstance(exc, UnicodeDecodeError) else "Nesting or number too large")
            raise BackendError(400, f"Invalid JSON payload received. {detail}.") from None
        model, method = route["model"], route["method"]
        stream = method == "streamGenerateContent"
        sse = stream and query.get("alt", [""])[0] == "sse"
        if emulator.cassette is not None:
            call = Call(api, model, method, sse, payload)
            self._send_exchange(emulator.exchange(call, path, auth), stream, sse)
            return
        emulator.check(model, payload, method, api, route["version"])
        request = emulator.parse(model, payload, stream=stream, method=method)
        if api == "vertex":  # Vertex selects Flex/Priority PayGo with a header, not the body
            request.service_tier = emulator.vertex_tier(model, self.headers.get(strict.VERTEX_TIER_HEADER))
        emulator.apply_catalogue(request)
        emulator.record(request)
        if method == "countTokens":
            count = emulator.prompt_tokens(request)
            details = wire.prompt_details(count, request.media_tokens)
            self._send_json(200, {"totalTokens": count, "promptTokensDetails": details})
            return
        frames = emulator.answer(request, secrets.token_urlsafe(16), api=api)
        headers = emulator.response_headers(request, frames, api)
        if sse:
            self._send_sse(frames, emulator.stream_delay_ms(request.model), headers)
        elif stream:  # without alt=sse Gemini streams one JSON array
            if all(isinstance(f, dict) for f in frames):
                self._send_json(200, frames, headers)
            elif faultwire.CUT in frames:
                self.close_connection = True
            else:
                self._send_raw(200, b"[" + b",".join(_frame_bytes(f) for f in frames), "application/json")
        elif frames[0] is faultwire.CUT:
            self.close_connection = True  # closed without a response
        elif isinstance(frames[0], bytes):
            self._send_raw(200, frames[0], "application/json; charset=UTF-8")
        else:
            self._send_json(200, frames[0], headers)

    def _batch_api(self, verb: str, path: str, query: dict[str, list[str]], raw: bytes) -> bool:
        """The Batch API and the Files API (batches.py); False when `path` is not one of theirs."""
        emulator = self.server.emulator
        store = emulator.batches
        base = emulator.base_url
        first = {k: v[0] for k, v in query.items() if v}
        if path == _UPLOAD_ROUTE and verb == "POST" and "upload_id" in first:  # the upload URL authorizes
            body, headers = store.upload_chunk(first["upload_id"], raw, self.headers, base, emulator.upload_parts)
            self._send_json(200, body, headers)
            return True
        generate = _GEMINI_ROUTE.match(path)
        batch = _BATCH_ROUTE.match(path)
        file = _FILE_ROUTE.match(path)
        if not (path == _UPLOAD_ROUTE or batch or file or (generate and generate["method"] == "batchGenerateContent")):
            return False
        emulator.authorize(self._auth(query))
        if generate:
            if verb != "POST":
                raise BackendError(404, f"Method not found: {verb} {path}")
            self._send_json(200, store.create(generate["model"], _json(raw), len(raw)))
        elif path == _UPLOAD_ROUTE:
            if verb != "POST":
                raise BackendError(404, f"Method not found: {verb} {path}")
            body, headers = store.upload_start(_json(raw), self.headers, base)
            self._send_json(200, body, headers)
        elif file:
            if verb != "GET":
                raise BackendError(404, f"Method not found: {verb} {path}")
            if file["method"] == "download":
                self._send_raw(200, store.download(file["id"]), "application/octet-stream")
            else:
                self._send_json(200, store.file(file["id"], base))
        elif batch:
            job, method = batch["id"], batch["method"]
            if job is None and verb == "GET":
                size = first.get("pageSize")
                self._send_json(200, store.list_jobs(int(size) if size and size.isdigit() else None,
                                                first.get("pageToken")))
            elif job is not None and method is None and verb == "GET":
                self._send_json(200, store.get(job))
            elif job is not None and method is None and verb == "DELETE":
                self._send_json(200, store.delete(job))
            elif job is not None and method == "cancel" and verb == "POST":
                self._send_json(200, store.cancel(job))
            else:
                raise BackendError(404, f"Method not found: {verb} {path}")
        return True

    def _caches(self, verb: str, path: str, query: dict[str, list[str]], raw: bytes) -> bool:
        """Explicit context caches (caches.py); False when `path` is not theirs."""
        route = _CACHE_ROUTE.match(path)
        if route is None:
            return False
        emulator = self.server.emulator
        emulator.authorize(self._auth(query))
        store, cache = emulator.caches, route["id"]
        first = {k: v[0] for k, v in query.items() if v}
        if cache is None and verb == "POST":
            self._send_json(200, store.create(_json(raw)))
        elif cache is None and verb == "GET":
            size = first.get("pageSize")
            self._send_json(200, store.list_caches(int(size) if size and size.isdigit() else None,
                                                   first.get("pageToken")))
        elif cache is not None and verb == "GET":
            self._send_json(200, store.get(cache))
        elif cache is not None and verb == "PATCH":
            self._send_json(200, store.update(cache, _json(raw)))
        elif cache is not None and verb == "DELETE":
            self._send_json(200, store.delete(cache))
        else:
            raise BackendError(404, f"Method not found: {verb} {path}")
        return True

    def _auth(self, query: dict[str, list[str]]) -> dict[str, str]:
        """The client's credentials as headers to forward (read here, never stored)."""
        auth = {}
        key = self.headers.get("x-goog-api-key") or (query.get("key") or [""])[0]
        if key:
            auth["x-goog-api-key"] = key
        if self.headers.get("Authorization"):
            auth["Authorization"] = self.headers["Authorization"]
        return auth

    def _send_exchange(self, exchange: Exchange, stream: bool, sse: bool) -> None:
        if exchange.status != 200 or exchange.frames is None:
            body = exchange.body
            if exchange.status == 200 and stream and not sse and isinstance(body, dict):
                body = [body]
            self._send_json(exchange.status, body, exchange.headers)
        elif sse:
            self._send_sse(exchange.frames, self.server.emulator.chunk_delay_ms, exchange.headers)
        else:
            self._send_json(200, exchange.frames, exchange.headers)

    def _send_json(self, code: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self._send_raw(code, data, "application/json; charset=UTF-8", headers)

    def _send_raw(self, code: int, data: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_sse(self, frames: list[Any], delay_ms: float, headers: Mapping[str, str] | None = None) -> None:
        if frames and frames[0] is faultwire.CUT:
            self.close_connection = True  # closed before any response
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self._streaming = True
        for i, frame in enumerate(frames):
            if frame is faultwire.CUT:  # mid-stream: no terminating chunk, the socket just closes
                self.close_connection = True
                return
            if i and delay_ms:
                time.sleep(delay_ms / 1000)
            event = b"data: %s\r\n\r\n" % _frame_bytes(frame)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "Invalid UTF-8"
        raise BackendError(400, f"Invalid JSON payload received. {detail}.") from None


def _frame_bytes(frame: Any) -> bytes:
    return frame if isinstance(frame, bytes) else json.dumps(frame, ensure_ascii=False).encode()


class Emulator:
    """A Gemini API on loopback, answering from ``backend``.

    Point ``ChatGoogleGenerativeAI(..., google_api_key="emulator", base_url=emu.base_url)`` at it.
    ``tokens_per_chunk`` sizes streamed chunks; ``chunk_delay_ms`` spaces them out. ``faults``
    injects failures into generate calls (:class:`Faults`); ``context_windows`` maps model ids or
    globs to input token limits (over ``faults.context_windows``, the catalogue and the backend's window).

    ``strict`` (the default) refuses what Gemini refuses: unknown models (404), unknown fields and enum
    values, and whatever a model's catalogue entry does not accept (see :mod:`.strict`). ``models`` adds
    or overrides catalogue entries (``{"my-model": {"sampling": False}}`` or :class:`ModelLimits`); the
    rest come from the registry. ``invalid_keys`` are API keys answered with Gemini's API_KEY_INVALID.

    Record/replay: ``record=DIR`` with ``upstream=URL`` forwards every call upstream and stores the
    exchange in DIR; ``replay=DIR`` answers from DIR only (a miss is a 404 naming the request's key;
    ``on_miss="upstream"`` forwards and records misses instead). No backend is needed then.
    """

    @named_arguments
    def __init__(
        self,
        backend: Backend | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tokens_per_chunk: int = 4,
        chunk_delay_ms: float = 0,
        faults: Faults | None = None,
        context_windows: Mapping[str, int] | None = None,
        strict: bool = True,
        models: Mapping[str, ModelLimits | Mapping[str, Any]] | None = None,
        invalid_keys: Iterable[str] = (),
        record: str | Path | None = None,
        replay: str | Path | None = None,
        upstream: str | None = None,
        on_miss: str = "error",
        latency: LatencyModel | None = None,
        batch: BatchSettings | None = None,
    ):
        _check_arguments(backend, record, replay, upstream, port)
        _check_modes(backend, record, replay, upstream, on_miss)
        self.backend = backend
        self.latency = latency  # None: answer at once; else take as long as the model would (latency.py)
        self.faults = faults
        self.context_windows = {**(faults.context_windows if faults else {}), **(context_windows or {})}
        self.host = host
        self.port = port
        self.tokens_per_chunk = tokens_per_chunk
        self.chunk_delay_ms = chunk_delay_ms
        self.strict = strict
        self._extra_models = models
        self._catalogue: dict[str, ModelLimits] | None = None
        self.invalid_keys = frozenset(invalid_keys)
        cassette_path = record or replay
        self.cassette = Cassette(cassette_path) if cassette_path else None
        self.recording = record is not None
        self._folder_lock: OutputLock | None = None
        if self.cassette is not None and (record is not None or on_miss == "upstream"):
            _check_record_folder(self.cassette.directory)  # before the first paid call is forwarded
        if replay is not None and self.cassette is not None:
            self.cassette.check_all()  # a hand-edited file is named now, not served as a 500 later
        self.upstream = Upstream(upstream) if upstream else None
        self.on_miss = on_miss
        self._requests: list[GenerateRequest] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        # The Batch API (batches.py): jobs answer through the same checks, backend and faults as generateContent
        self.batches = BatchStore(self.batch_answer, lambda model: not self.strict or self.limits(model) is not None,
                                  batch)
        self.upload_parts: dict[str, bytearray] = {}  # resumable uploads in progress
        self.caches = CacheStore(self._cache_tokens, self._min_cache_tokens,
                                 lambda model: not self.strict or self.limits(model) is not None)

    def parse(self, model: str, payload: dict[str, Any], *, stream: bool, method: str) -> GenerateRequest:
        """The request as the backend sees it: an explicit cache's content (caches.py) in front of its own."""
        cached = 0
        if payload.get("cachedContent") and method != "countTokens":
            try:
                payload, cached = self.caches.expand(model, payload)
            except BackendError:
                if self.strict:
                    raise  # lenient: a cache it does not have is ignored, as before caches were emulated
        request = wire.parse_request(model, payload, stream=stream, method=method)
        request.cache_tokens = cached
        return request

    def _min_cache_tokens(self, model: str) -> int | None:
        limits = self.limits(model)
        return limits.min_cache_tokens if limits is not None else None

    def _cache_tokens(self, model: str, payload: dict[str, Any]) -> int:
        return self.prompt_tokens(wire.parse_request(model, payload, stream=False, method="generateContent"))

    def batch_answer(self, model: str, payload: dict[str, Any]) -> tuple[dict[str, Any] | None,
                                                                          dict[str, Any] | None]:
        """One request of a batch job: (the GenerateContentResponse, None) or (None, its google.rpc.Status)."""
        try:
            self.check(model, payload, "generateContent")
            request = self.parse(model, payload, stream=False, method="generateContent")
            self.apply_catalogue(request)
            self.record(request)
            frames = self.answer(request, secrets.token_urlsafe(16), timed=False)
        except BackendError as err:
            return None, rpc_status(err)
        if not frames or not isinstance(frames[0], dict):  # a cut or corrupted answer: that request failed
            return None, rpc_status(BackendError(500, "Internal error encountered."))
        return frames[0], None

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; returns ``self`` (idempotent)."""
        if self._server is None:
            if self.cassette is not None and (self.recording or self.on_miss == "upstream"):
                # One writer per record folder: a second recorder would drop answers that were paid for.
                self._folder_lock = OutputLock(self.cassette.directory,
                                               what=f"the record folder {self.cassette.directory}").acquire()
            self._stopping.clear()
            try:
                self._server = _Server((self.host, self.port), self)
            except BaseException:
                self._release_folder()
                raise
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve,
                name=f"tierwise-emulator:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, drop open connections, and release the port (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in slow/hang faults
        server.stop_serving()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._release_folder()

    def _release_folder(self) -> None:
        lock, self._folder_lock = self._folder_lock, None
        if lock is not None:
            lock.release()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("Emulator is not running: call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def requests(self) -> list[GenerateRequest]:
        """Requests received so far (parsed bodies only: never headers or keys)."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def record(self, request: GenerateRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def faults_applied(self) -> dict[str, int]:
        """How many calls got each injected fault kind (also on each request as ``.fault``)."""
        return self.faults.applied if self.faults is not None else {}

    @property
    def catalogue(self) -> dict[str, ModelLimits]:
        """The models this emulator serves and their limits (the registry's, plus ``models``)."""
        if self._catalogue is None:
            self._catalogue = build_catalogue(self._extra_models)
        return self._catalogue

    def limits(self, model: str) -> ModelLimits | None:
        return self.catalogue.get(model)

    def context_window(self, model: str) -> int:
        """``model``'s input token limit: ``context_windows`` if set there, else the smaller of its catalogue
        window and the backend's."""
        found = window_for(self.context_windows, model)
        if found is not None:
            return found
        windows = [getattr(self.backend, "context_window", None)]
        if (limits := self.limits(model)) is not None:
            windows.append(limits.context_window)
        return min(w for w in windows if w is not None)

    def authorize(self, auth: Mapping[str, str]) -> None:
        """Refuse a configured invalid key (400 API_KEY_INVALID) or, when strict, a call with no credentials."""
        key = auth.get("x-goog-api-key")
        if key is not None and key in self.invalid_keys:
            raise faultwire.api_key_invalid()
        if self.strict and not auth:
            raise BackendError(403, _UNREGISTERED)

    def check(self, model: str, payload: Any, method: str, api: str = "gemini", version: str = "v1beta") -> None:
        """When strict: 404 for a model the catalogue lacks, 400 for anything the model refuses."""
        if not self.strict:
            return
        limits = self.limits(model)
        if limits is None:
            raise strict.model_not_found(model, version)
        strict.check(payload, limits, method=method, vertex=api == "vertex")

    def apply_catalogue(self, request: GenerateRequest) -> None:
        """What the model does with the request as Google documents it: a fixed-sampling model ignores
        temperature/topP (the backend never sees them); no thinking level or budget sent → its default level."""
        limits = self.limits(request.model)
        if limits is None:
            return
        if not limits.sampling and (request.temperature is not None or request.top_p is not None):
            request.temperature = request.top_p = None
            request.sampling_ignored = True
        if request.thinking_level is None and request.thinking_budget is None:
            request.effective_thinking_level = limits.default_thinking_level
        else:
            request.effective_thinking_level = request.thinking_level

    def vertex_tier(self, model: str, header: str | None) -> str | None:
        """The tier a Vertex request's X-Vertex-AI-LLM-Shared-Request-Type header asks for (checked when strict)."""
        limits = self.limits(model)
        if self.strict and limits is not None:
            return strict.vertex_tier(header, limits)
        return header.strip().lower() if header else None

    def prompt_tokens(self, request: GenerateRequest) -> int:
        """The prompt's tokens: the backend's count of its text plus its media parts."""
        return self._require_backend().count_tokens(request) + request.media_token_count

    def generate(self, request: GenerateRequest) -> Generation:
        """Check the context window like Gemini does, then ask the backend."""
        count = self.prompt_tokens(request)
        window = self.context_window(request.model)
        if count > window:
            raise token_limit_error(count, window)
        generation = self._require_backend().generate(request)
        if request.media_token_count:
            generation = replace(generation, prompt_tokens=generation.prompt_tokens + request.media_token_count)
        return generation

    def answer(self, request: GenerateRequest, response_id: str, *, api: str = "gemini",
               timed: bool = True) -> list[Any]:
        """The response frames for a generate call, with a fault from ``faults`` injected if one fires.

        ``timed=False`` (a Batch API job's request): no latency and no slow/hang waits; the job's own timeline
        (``BatchSettings``) is its wall time.

        Raises :class:`BackendError` for error answers. See ``faultwire`` for the frame kinds.
        """
        fault: Fault | None = self.faults.pick(request) if self.faults else None
        if fault is not None:
            prompt_tokens = functools.partial(self.prompt_tokens, request)  # only some kinds need it
            if (err := faultwire.error(fault, request, prompt_tokens)) is not None:
                raise err
            if fault.kind in ("slow", "hang") and timed:
                self._stopping.wait(fault.delay_ms / 1000)
            if (frames := faultwire.replacement(fault, request, prompt_tokens, response_id)) is not None:
                return self._stamp(request, frames, None, api)
        generation = self.generate(request)
        if request.cache_tokens:  # the explicit cache's tokens, billed at the cached rate
            generation = replace(generation, cached_tokens=max(generation.cached_tokens, request.cache_tokens))
        if fault is not None:
            generation = faultwire.shorten(fault, generation)
        limits = self.limits(request.model)
        signature = limits is not None and limits.thought_signatures
        if self.latency is not None and timed:  # streamed: the first token's wait here, the rest between chunks
            self._stopping.wait(self.latency.first_token_seconds(request.model) if request.stream
                                else self.latency.seconds(request.model, generation.output_tokens))
        if request.stream:
            frames = list(
                wire.render_stream(request, generation, response_id, self.tokens_per_chunk, signature=signature)
            )
        else:
            frames = [wire.render(request, generation, response_id, signature=signature)]
        frames = self._stamp(request, frames, generation.served_tier, api)
        return faultwire.corrupt(fault, frames) if fault is not None else frames

    def served_tier(self, request: GenerateRequest, served: str | None = None) -> str:
        """The tier that serves ``request``: ``served`` if a rule or fault says so, else the one requested."""
        tier = served or request.service_tier or "standard"
        return "standard" if tier == "unspecified" else tier

    def _stamp(self, request: GenerateRequest, frames: list[Any], served: str | None, api: str) -> list[Any]:
        """Note the served tier on ``request`` (sent as a header); Vertex: usageMetadata.trafficType, createTime."""
        tier = request.served_tier = self.served_tier(request, served)
        if api != "vertex":
            return frames
        created = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        for frame in frames:
            if isinstance(frame, dict):
                frame.setdefault("createTime", created)
                if isinstance(frame.get("usageMetadata"), dict):
                    frame["usageMetadata"]["trafficType"] = _TRAFFIC_TYPES.get(tier, "ON_DEMAND")
        return frames

    def response_headers(self, request: GenerateRequest, frames: list[Any], api: str) -> dict[str, str]:
        """``x-gemini-service-tier``: the tier that served the call, as the Gemini API reports it."""
        if api == "vertex":
            return {}
        return {"x-gemini-service-tier": request.served_tier or "standard"}

    def exchange(self, call: Call, path: str, auth: Mapping[str, str]) -> Exchange:
        """Record or replay one call (``cassette`` mode)."""
        assert self.cassette is not None
        if not self.recording:
            found = self.cassette.replay(call)
            if found is not None:
                return found
            if self.on_miss != "upstream":
                raise self.cassette.miss(call)
        assert self.upstream is not None
        self.cassette.path(call)  # a model id that cannot be stored is refused before anything is paid for
        answer = self.upstream.send(path, call.sse, call.body, dict(auth))
        try:
            self.cassette.record(call, answer)
        except (OSError, TierwiseError) as exc:  # paid for: keep it elsewhere, and still answer the client
            self._save_elsewhere(call, answer, exc)
        return answer

    def _save_elsewhere(self, call: Call, answer: Exchange, exc: BaseException) -> None:
        assert self.cassette is not None
        text = json.dumps(self.cassette.document(call, [answer.to_json()]), indent=1, ensure_ascii=False) + "\n"
        try:
            where, _ = save_with_fallback(self.cassette.path(call), lambda tmp: tmp.write_text(text, "utf-8"),
                                          what="the recorded exchange")
        except TierwiseError as lost:
            logger.error("cannot store the exchange for models/%s:%s (%s): %s", call.model, call.method,
                         getattr(exc, "strerror", None) or exc, lost)
            return
        logger.error("cannot store the exchange for models/%s:%s in %s (%s); saved it to %s instead: move it into "
                     "%s/%s/ to replay it", call.model, call.method, self.cassette.directory,
                     getattr(exc, "strerror", None) or exc, where, self.cassette.directory,
                     self.cassette.path(call).parent.name)

    def _require_backend(self) -> Backend:
        if self.backend is None:
            raise BackendError(500, "This emulator has no backend (it only records or replays).")
        return self.backend

    def stream_delay_ms(self, model: str) -> float:
        """The pause between streamed chunks: `chunk_delay_ms`, or the model's output speed when latency is on."""
        if self.latency is None:
            return self.chunk_delay_ms
        return max(self.chunk_delay_ms, self.latency.seconds_per_token(model) * self.tokens_per_chunk * 1000)

    def model_ids(self) -> list[str]:
        models = getattr(self.backend, "models", None)
        named = list(models()) if callable(models) else []
        return sorted({*self.catalogue, *named}) if self.strict else named or sorted(self.catalogue)

    def model_info(self, model: str) -> dict[str, Any]:
        limits = self.limits(model)
        if self.strict and limits is None:
            raise strict.model_not_found(model)
        return {
            "name": f"models/{model}",
            "baseModelId": model,
            "version": "emulator",
            "displayName": model,
            "inputTokenLimit": self.context_window(model) if self.backend or limits else 1_048_576,
            "outputTokenLimit": limits.max_output_tokens if limits else 65536,
            "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"],
            "thinking": bool(limits and (limits.thinking_levels or limits.thinking_budget)),
        }


def _check_arguments(backend: Any, record: Any, replay: Any, upstream: Any, port: Any) -> None:
    """The constructor's arguments, by name: a wrong type is refused here, not as a TypeError deep inside."""
    from tierwise.errors import InvalidArgumentError
    from tierwise.inputs import check_path
    from tierwise.strict import url_problem

    if backend is not None and not callable(getattr(backend, "generate", None)):
        raise InvalidArgumentError(f"backend must be an emulator backend (e.g. ScriptedBackend(...)) or None, got "
                                   f"{type(backend).__name__}")
    for name, value in (("record", record), ("replay", replay)):
        if value is not None:
            check_path(value, name)
    if upstream is not None and (problem := url_problem(upstream)):
        raise InvalidArgumentError(f"upstream {problem}")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidArgumentError(f"port must be a whole number from 0 to 65535, got {port!r}")


def _check_record_folder(folder: Path) -> None:
    """The record folder can take files: a folder (made if missing) that is writable. Checked when the emulator
    is built, before any call is forwarded upstream and paid for."""
    from tierwise.errors import OutputPathError

    if folder.exists() and not folder.is_dir():
        raise OutputPathError(f"record: {folder} is a file, not a folder; name a folder for the recorded exchanges")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".tierwise-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputPathError(f"record: cannot write in {folder}: {exc.strerror or exc}") from None


def _check_modes(
    backend: Backend | None, record: Any, replay: Any, upstream: str | None, on_miss: str
) -> None:
    from tierwise.errors import InvalidInputError

    if record is not None and replay is not None:
        raise InvalidInputError("record and replay: choose one (record=DIR stores, replay=DIR serves)")
    if record is not None and not upstream:
        raise InvalidInputError("record=DIR needs upstream=URL: the endpoint whose answers are recorded")
    if on_miss not in ("error", "upstream"):
        raise InvalidInputError(f"on_miss must be 'error' or 'upstream', got {on_miss!r}")
    if on_miss == "upstream" and not upstream:
        raise InvalidInputError("on_miss='upstream' needs upstream=URL to forward misses to")
    if upstream and record is None and replay is None:
        raise InvalidInputError("upstream=URL goes with record=DIR (or replay=DIR with on_miss='upstream')")
    if backend is None and record is None and replay is None:
        raise InvalidInputError("backend is required (unless the emulator records or replays)")
    if replay is not None and not Path(replay).is_dir():
        raise InvalidInputError(f"replay: {replay} is not a directory of recorded exchanges")


def serve(
    host: str,
    port: int,
    backend: Backend | None,
    *,
    on_ready: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    latency: LatencyModel | None = None,
    **options: Any,
) -> None:
    """Run an :class:`Emulator` until Ctrl-C (or ``stop`` is set), then shut down and return.

    ``options`` are :class:`Emulator`'s (faults, strict, record, replay, upstream, …). Prints nothing;
    ``on_ready(base_url)`` is called once the port is bound (e.g. to print it).
    """
    emulator = Emulator(backend, host, port, latency=latency, **options).start()
    event = stop or threading.Event()
    try:
        if on_ready is not None:
            on_ready(emulator.base_url)
        while not event.wait(0.25):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
