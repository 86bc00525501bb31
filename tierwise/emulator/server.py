"""The HTTP side: a loopback server speaking Gemini's REST routes.

Stdlib ``ThreadingHTTPServer`` (one daemon thread per connection, HTTP/1.1 keep-alive) so the
emulator adds no dependency. Request headers are never read beyond framing and never stored or
logged: clients send their API key in ``x-goog-api-key`` (or ``?key=``), and it must not leak
into records or logs.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import wire
from .backend import Backend, BackendError, GenerateRequest, Generation, token_limit_error

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
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

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
            self._send_json(err.code, wire.error_body(err))
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
        generation = emulator.generate(request)
        response_id = secrets.token_urlsafe(16)
        if not stream:
            self._send_json(200, wire.render(request, generation, response_id))
            return
        chunks = wire.render_stream(request, generation, response_id, emulator.tokens_per_chunk)
        if query.get("alt", [""])[0] == "sse":
            self._send_sse(chunks, emulator.chunk_delay_ms)
        else:  # without alt=sse Gemini streams one JSON array
            self._send_json(200, list(chunks))

    def _send_json(self, code: int, body: Any) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_sse(self, chunks: Any, delay_ms: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._streaming = True
        for i, chunk in enumerate(chunks):
            if i and delay_ms:
                time.sleep(delay_ms / 1000)
            event = f"data: {json.dumps(chunk, ensure_ascii=False)}\r\n\r\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class Emulator:
    """A Gemini API on loopback, answering from ``backend``.

    Point ``ChatGoogleGenerativeAI(..., google_api_key="emulator", base_url=emu.base_url)`` at it.
    ``tokens_per_chunk`` sizes streamed chunks; ``chunk_delay_ms`` spaces them out.
    """

    def __init__(
        self,
        backend: Backend,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tokens_per_chunk: int = 4,
        chunk_delay_ms: float = 0,
    ):
        self.backend = backend
        self.host = host
        self.port = port
        self.tokens_per_chunk = tokens_per_chunk
        self.chunk_delay_ms = chunk_delay_ms
        self._requests: list[GenerateRequest] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; returns ``self`` (idempotent)."""
        if self._server is None:
            self._server = _Server((self.host, self.port), self)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
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
        server.shutdown()
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

    def generate(self, request: GenerateRequest) -> Generation:
        """Check the context window like Gemini does, then ask the backend."""
        count = self.backend.count_tokens(request)
        window = self.backend.context_window
        if count > window:
            raise token_limit_error(count, window)
        return self.backend.generate(request)

    def model_ids(self) -> list[str]:
        models = getattr(self.backend, "models", None)
        return list(models()) if callable(models) else []

    def model_info(self, model: str) -> dict[str, Any]:
        return {
            "name": f"models/{model}",
            "baseModelId": model,
            "version": "emulator",
            "displayName": model,
            "inputTokenLimit": self.backend.context_window,
            "outputTokenLimit": 65536,
            "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"],
        }


def serve(
    host: str,
    port: int,
    backend: Backend,
    *,
    on_ready: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run an :class:`Emulator` until Ctrl-C (or ``stop`` is set), then shut down and return.

    Prints nothing; ``on_ready(base_url)`` is called once the port is bound (e.g. to print it).
    """
    emulator = Emulator(backend, host, port).start()
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
