"""Forwarding to an upstream Gemini-compatible endpoint (Google's, Vertex AI's, or another emulator).

The key sent upstream is the operator's (``GOOGLE_API_KEY`` / ``GEMINI_API_KEY`` from the emulator's own
environment) if set, else the client's own ``x-goog-api-key`` / ``Authorization``; it is only ever put in
the outgoing request's headers, never in the stored exchange, an error or a log line.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .backend import BackendError
from .record import KEPT_HEADERS, Exchange

UPSTREAM_KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY")


def operator_key() -> str | None:
    """The operator's own API key from the environment, if any."""
    return next((os.environ[n] for n in UPSTREAM_KEY_VARIABLES if os.environ.get(n)), None)


class Upstream:
    """Sends one request to ``base_url`` + the client's path and reads the whole answer (streams included)."""

    def __init__(self, base_url: str, *, timeout_s: float = 600.0):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"upstream must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.calls = 0  # how many requests went upstream (tests assert none do during replay)

    def send(self, path: str, sse: bool, body: Any, auth: dict[str, str]) -> Exchange:
        """POST ``body`` to ``path``; ``auth`` holds the client's auth headers (used only without an operator key)."""
        import httpx

        headers = {"Content-Type": "application/json"}
        key = operator_key()
        if key:
            headers["x-goog-api-key"] = key
        else:
            headers.update(auth)
        url = self.base_url + path + ("?alt=sse" if sse else "")
        self.calls += 1
        try:
            with httpx.Client(timeout=self.timeout_s) as client:
                response = client.post(url, content=json.dumps(body).encode(), headers=headers)
        except httpx.HTTPError as exc:
            raise BackendError(503, f"Upstream {self.base_url} did not answer: {type(exc).__name__}.") from None
        kept = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
        if sse and response.status_code == 200:
            return Exchange(200, frames=_sse_frames(response.text), headers=kept)
        try:
            payload = response.json()
        except ValueError:
            raise BackendError(502, f"Upstream {self.base_url} answered {response.status_code} with a body that "
                                    "is not JSON.") from None
        return Exchange(response.status_code, body=payload, headers=kept)


def _sse_frames(text: str) -> list[Any]:
    """The JSON payloads of an SSE stream's ``data:`` events."""
    frames = []
    for event in text.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].lstrip() for line in event.split("\n") if line.startswith("data:"))
        if data:
            try:
                frames.append(json.loads(data))
            except ValueError:
                raise BackendError(502, "Upstream sent a stream event that is not JSON.") from None
    return frames
