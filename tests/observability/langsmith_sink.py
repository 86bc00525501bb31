"""A LangSmith API stand-in on 127.0.0.1 that records the runs the real `langsmith` client sends (multipart or
batch ingestion), so tests read exactly what LangSmith would have received. Nothing leaves the machine."""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LangSmithSink:
    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self.paths: list[str] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _reply(self, body: Any, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                sink.paths.append(f"GET {self.path}")
                self._reply({"version": "0.0.0-test"} if self.path.startswith("/info") else {})

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self) -> None:  # noqa: N802
                body = self._body()
                sink.paths.append(f"POST {self.path}")
                if self.path.startswith("/runs/multipart"):
                    sink._multipart(self.headers["Content-Type"], body)
                elif self.path.startswith("/runs/batch"):
                    data = json.loads(body)
                    for run in data.get("post") or []:
                        sink._merge(run["id"], run)
                    for run in data.get("patch") or []:
                        sink._merge(run["id"], run)
                elif self.path.rstrip("/") == "/runs":
                    run = json.loads(body)
                    sink._merge(run["id"], run)
                self._reply({})

            def do_PATCH(self) -> None:  # noqa: N802
                body = self._body()
                sink.paths.append(f"PATCH {self.path}")
                if self.path.startswith("/runs/"):
                    sink._merge(self.path.split("/")[2], json.loads(body))
                self._reply({})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _merge(self, run_id: str, fields: dict[str, Any]) -> None:
        with self._lock:
            run = self.runs.setdefault(str(run_id), {})
            for key, value in fields.items():
                if key == "extra" and isinstance(value, dict) and isinstance(run.get("extra"), dict):
                    run["extra"] = {**run["extra"], **value}
                elif value is not None or key not in run:
                    run[key] = value

    def _multipart(self, content_type: str, body: bytes) -> None:
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            op, run_id, *field = name.split(".", 2)
            if op not in ("post", "patch"):
                continue
            value = json.loads(part.get_payload(decode=True))
            self._merge(run_id, {field[0]: value} if field else value)

    def __enter__(self) -> LangSmithSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def llm_runs(self) -> list[dict[str, Any]]:
        return [run for run in self.runs.values() if run.get("run_type") == "llm"]
