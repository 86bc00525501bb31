"""The HTTP side: a loopback server speaking Gemini's REST routes.

Stdlib ``ThreadingHTTPServer`` (one daemon thread per connection, HTTP/1.1 keep-alive) so the
emulator adds no dependency. Request headers are never read beyond framing and never stored or
logged: clients send their API key in ``x-goog-api-key`` (or ``?key=``), and it must not leak
into records or logs.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import secrets
import selectors
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import faultwire, wire
from .backend import Backend, BackendError, GenerateRequest, Generation, token_limit_error
from .faults import Fault, Faults, window_for
from .latency import LatencyModel

logger = logging.getLogger(__name__)

_MODEL_ROUTE = re.compile(r"^/(?:v1|v1beta|v1alpha)/models/(?P<model>[^/:]+)(?::(?P<method>\w+))?$")
_LIST_ROUTE = re.compile(r"^/(?:v1|v1beta|v1alpha)/models/?$")
_MAX_BODY = 64 * 1024 * 1024


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
                            self._handle_request_noblock()
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
        self.server_name, self.server_port = self.server_address[:2]

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
        route = _MODEL_ROUTE.match(path)
        if route and verb == "GET" and route["method"] is None:
            self._send_json(200, emulator.model_info(route["model"]))
            return
        methods = ("generateContent", "streamGenerateContent", "countTokens")
        if not (route and verb == "POST" and route["method"] in methods):
            raise BackendError(404, f"Method not found: {verb} {path}")
        try:
            payload = json.loads(raw) if raw.strip() else {}
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "Invalid UTF-8"
            raise BackendError(400, f"Invalid JSON payload received. {detail}.") from None
        method = route["method"]
        stream = method == "streamGenerateContent"
        request = wire.parse_request(route["model"], payload, stream=stream, method=method)
        emulator.record(request)
        if method == "countTokens":
            count = emulator.backend.count_tokens(request)
            self._send_json(
                200,
                {"totalTokens": count, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": count}]},
            )
            return
        frames = emulator.answer(request, secrets.token_urlsafe(16))
        if stream and query.get("alt", [""])[0] == "sse":
            self._send_sse(frames, emulator.stream_delay_ms(request.model))
        elif stream:  # without alt=sse Gemini streams one JSON array
            if all(isinstance(f, dict) for f in frames):
                self._send_json(200, frames)
            elif faultwire.CUT in frames:
                self.close_connection = True
            else:
                self._send_raw(200, b"[" + b",".join(_frame_bytes(f) for f in frames), "application/json")
        elif frames[0] is faultwire.CUT:
            self.close_connection = True  # closed without a response
        elif isinstance(frames[0], bytes):
            self._send_raw(200, frames[0], "application/json; charset=UTF-8")
        else:
            self._send_json(200, frames[0])

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

    def _send_sse(self, frames: list[Any], delay_ms: float) -> None:
        if frames and frames[0] is faultwire.CUT:
            self.close_connection = True  # closed before any response
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
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


def _frame_bytes(frame: Any) -> bytes:
    return frame if isinstance(frame, bytes) else json.dumps(frame, ensure_ascii=False).encode()


class Emulator:
    """A Gemini API on loopback, answering from ``backend``.

    Point ``ChatGoogleGenerativeAI(..., google_api_key="emulator", base_url=emu.base_url)`` at it.
    ``tokens_per_chunk`` sizes streamed chunks; ``chunk_delay_ms`` spaces them out. ``faults``
    injects failures into generate calls (:class:`Faults`); ``context_windows`` maps model ids or
    globs to input token limits (over ``faults.context_windows`` and the backend's own window).
    """

    def __init__(
        self,
        backend: Backend,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tokens_per_chunk: int = 4,
        chunk_delay_ms: float = 0,
        faults: Faults | None = None,
        context_windows: Mapping[str, int] | None = None,
        latency: LatencyModel | None = None,
    ):
        self.backend = backend
        self.latency = latency  # None: answer at once; else take as long as the model would (latency.py)
        self.faults = faults
        self.context_windows = {**(faults.context_windows if faults else {}), **(context_windows or {})}
        self.host = host
        self.port = port
        self.tokens_per_chunk = tokens_per_chunk
        self.chunk_delay_ms = chunk_delay_ms
        self._requests: list[GenerateRequest] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; returns ``self`` (idempotent)."""
        if self._server is None:
            self._stopping.clear()
            self._server = _Server((self.host, self.port), self)
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

    def context_window(self, model: str) -> int:
        """``model``'s input token limit: ``context_windows`` if set there, else the backend's."""
        found = window_for(self.context_windows, model)
        return found if found is not None else self.backend.context_window

    def generate(self, request: GenerateRequest) -> Generation:
        """Check the context window like Gemini does, then ask the backend."""
        count = self.backend.count_tokens(request)
        window = self.context_window(request.model)
        if count > window:
            raise token_limit_error(count, window)
        return self.backend.generate(request)

    def answer(self, request: GenerateRequest, response_id: str) -> list[Any]:
        """The response frames for a generate call, with a fault from ``faults`` injected if one fires.

        Raises :class:`BackendError` for error answers. See ``faultwire`` for the frame kinds.
        """
        fault: Fault | None = self.faults.pick(request) if self.faults else None
        if fault is not None:
            prompt_tokens = functools.partial(self.backend.count_tokens, request)  # only some kinds need it
            if (err := faultwire.error(fault, request, prompt_tokens)) is not None:
                raise err
            if fault.kind in ("slow", "hang"):
                self._stopping.wait(fault.delay_ms / 1000)
            if (frames := faultwire.replacement(fault, request, prompt_tokens, response_id)) is not None:
                return frames
        generation = self.generate(request)
        if fault is not None:
            generation = faultwire.shorten(fault, generation)
        if self.latency is not None:  # streamed: the first token's wait here, the rest between chunks
            self._stopping.wait(self.latency.first_token_seconds(request.model) if request.stream
                                else self.latency.seconds(request.model, generation.output_tokens))
        if request.stream:
            frames = list(wire.render_stream(request, generation, response_id, self.tokens_per_chunk))
        else:
            frames = [wire.render(request, generation, response_id)]
        return faultwire.corrupt(fault, frames) if fault is not None else frames

    def stream_delay_ms(self, model: str) -> float:
        """The pause between streamed chunks: `chunk_delay_ms`, or the model's output speed when latency is on."""
        if self.latency is None:
            return self.chunk_delay_ms
        return max(self.chunk_delay_ms, self.latency.seconds_per_token(model) * self.tokens_per_chunk * 1000)

    def model_ids(self) -> list[str]:
        models = getattr(self.backend, "models", None)
        return list(models()) if callable(models) else []

    def model_info(self, model: str) -> dict[str, Any]:
        return {
            "name": f"models/{model}",
            "baseModelId": model,
            "version": "emulator",
            "displayName": model,
            "inputTokenLimit": self.context_window(model),
            "outputTokenLimit": 65536,
            "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"],
        }


def serve(
    host: str,
    port: int,
    backend: Backend,
    *,
    faults: Faults | None = None,
    context_windows: Mapping[str, int] | None = None,
    on_ready: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    latency: LatencyModel | None = None,
) -> None:
    """Run an :class:`Emulator` until Ctrl-C (or ``stop`` is set), then shut down and return.

    Prints nothing; ``on_ready(base_url)`` is called once the port is bound (e.g. to print it).
    """
    emulator = Emulator(backend, host, port, faults=faults, context_windows=context_windows, latency=latency).start()
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
