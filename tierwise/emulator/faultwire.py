"""What each injected fault looks like on the wire, as Gemini shows it.

Pure functions, no I/O: the server turns a :class:`Fault` into an error, a replacement answer, a
shortened generation or corrupted frames, and then only writes what it gets. A *frame* is a JSON
body (dict), raw bytes that are not valid JSON, or :data:`CUT` (close the connection there).
Faults that replace the answer never consult the backend, so a scripted rule's ``times`` is not
used up by a call that failed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from . import tokens, wire
from .backend import BackendError, GenerateRequest, Generation
from .faults import Fault

CUT = object()  # frame: close the connection here, mid-response
Frame = Any  # dict | bytes | CUT

_RPC = "type.googleapis.com/google.rpc."
_MESSAGES = {
    "rate_limit": "You exceeded your current quota, please check your plan and billing details.",
    "server_error": "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    "unavailable": "The model is overloaded. Please try again later.",
    "api_key_invalid": "API key not valid. Please pass a valid API key.",
    "permission_denied": "The caller does not have permission",
}
_HARMS = ("HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_HARASSMENT")


def error(fault: Fault, request: GenerateRequest, prompt_tokens: Callable[[], int]) -> BackendError | None:
    """The HTTP error for error-kind faults; ``None`` for the others."""
    message = fault.params.get("message")
    if fault.kind == "rate_limit":
        return _rate_limit(fault, request, message or _MESSAGES["rate_limit"])
    if fault.kind == "server_error":
        return BackendError(fault.code, message or _MESSAGES["server_error"])
    if fault.kind == "unavailable":
        return BackendError(503, message or _MESSAGES["unavailable"])
    if fault.kind == "api_key_invalid":
        return api_key_invalid(message or _MESSAGES["api_key_invalid"])
    if fault.kind == "permission_denied":
        return BackendError(403, message or _MESSAGES["permission_denied"])
    if fault.kind == "context_overflow":
        count = prompt_tokens()
        limit = fault.limit if fault.limit is not None else max(count - 1, 1)
        count = max(count, limit + 1)  # Gemini only says this when it is true
        text = f"The input token count ({count}) exceeds the maximum number of tokens allowed ({limit})."
        return BackendError(400, message or text)
    return None


def api_key_invalid(message: str = _MESSAGES["api_key_invalid"]) -> BackendError:
    """Gemini's answer to a key it does not know: 400 INVALID_ARGUMENT with ErrorInfo API_KEY_INVALID."""
    details: list[dict[str, Any]] = [
        {
            "@type": _RPC + "ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        },
        {"@type": _RPC + "LocalizedMessage", "locale": "en-US", "message": message},
    ]
    return BackendError(400, message, details=details)


def _rate_limit(fault: Fault, request: GenerateRequest, message: str) -> BackendError:
    quota = {
        "@type": _RPC + "QuotaFailure",
        "violations": [
            {
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                "quotaDimensions": {"location": "global", "model": request.model},
                "quotaValue": "60",
            }
        ],
    }
    details: list[dict[str, Any]] = [quota]
    if fault.retry_info:
        details.append({"@type": _RPC + "RetryInfo", "retryDelay": duration(fault.retry_after)})
    # HTTP wants whole seconds; a fractional value is kept (clients parse floats) so tests can wait briefly.
    headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.header else {}
    return BackendError(429, message, details=details, headers=headers)


def duration(seconds: float) -> str:
    """A protobuf ``Duration`` in JSON: ``"2s"``, ``"1.500s"``, ``"0.000250s"``."""
    nanos = round(seconds * 1e9)
    whole, frac = divmod(nanos, 1_000_000_000)
    if not frac:
        return f"{whole}s"
    digits = 3 if frac % 1_000_000 == 0 else 6 if frac % 1000 == 0 else 9
    return f"{whole}.{frac // 10 ** (9 - digits):0{digits}d}s"


def replacement(
    fault: Fault, request: GenerateRequest, prompt_tokens: Callable[[], int], response_id: str
) -> list[Frame] | None:
    """Frames that stand in for the whole answer (the backend is not asked); ``None`` to answer normally."""
    if fault.kind == "hang" or (fault.kind == "stream_cut" and not request.stream):
        return [CUT]
    if fault.kind not in ("empty", "safety", "blocked", "finish"):
        return None
    count = prompt_tokens()
    if fault.kind == "blocked":
        return [wire.blocked(request, count, fault.block_reason, response_id)]
    meta = {
        "promptTokenCount": count,
        "totalTokenCount": count,
        "promptTokensDetails": wire.prompt_details(count, request.media_tokens),
    }
    candidates: list[dict[str, Any]] = []
    if fault.kind == "safety":
        ratings: list[dict[str, Any]] = [{"category": c, "probability": "NEGLIGIBLE"} for c in _HARMS]
        ratings.append({"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True})
        candidates = [{"finishReason": "SAFETY", "index": 0, "safetyRatings": ratings}]
    elif fault.kind == "finish":
        candidates = [{"content": {"role": "model"}, "finishReason": fault.finish_reason, "index": 0}]
    body = {"candidates": candidates, "usageMetadata": meta, "modelVersion": request.model, "responseId": response_id}
    return [body]


def shorten(fault: Fault, gen: Generation) -> Generation:
    """For ``max_tokens``: the text cut to ``tokens`` tokens (default half), function calls dropped.
    For ``served_tier``: the answer as is, served at the fault's tier."""
    if fault.kind == "served_tier":
        return replace(gen, served_tier=fault.tier)
    if fault.kind != "max_tokens":
        return gen
    keep = fault.tokens if fault.tokens is not None else tokens.count_tokens(gen.text) // 2
    text = tokens.truncate(gen.text, keep)
    return replace(gen, text=text, output_tokens=tokens.count_tokens(text), finish_reason="MAX_TOKENS", tool_calls=[])


def corrupt(fault: Fault, frames: list[dict[str, Any]]) -> list[Frame]:
    """For ``malformed`` / ``stream_cut``: ``chunks`` good frames (always fewer than all), then the break."""
    if fault.kind not in ("malformed", "stream_cut"):
        return list(frames)
    good = min(fault.chunks, len(frames) - 1)
    if fault.kind == "stream_cut":
        return [*frames[:good], CUT]
    return [*frames[:good], truncated(frames[good])]


def truncated(body: dict[str, Any]) -> bytes:
    """A JSON body cut halfway (mid-token): what a proxy that gave up mid-write delivers."""
    data = json.dumps(body, ensure_ascii=False).encode()
    return data[: max(1, math.ceil(len(data) / 2))]

