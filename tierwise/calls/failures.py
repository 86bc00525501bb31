"""What went wrong with one attempt, in tierwise's terms: the kind, whether retrying the same model can help,
and how long the server asked us to wait.

HTTP errors arrive as LangChain's classified ModelError subclasses (rate limit, auth, invalid request, API
error, context overflow) wrapping google-genai's ClientError/ServerError, or as raw httpx timeouts. A bad
*answer* is a failure too ("check quality, not just availability"): empty, blocked, cut at max tokens, or
not fitting the output schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

# Kinds that say the model is struggling (they count towards its cooldown).
TRANSIENT = frozenset({"rate_limited", "unavailable", "timeout", "connection", "malformed"})
BLOCKED_REASONS = frozenset({"SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION", "IMAGE_SAFETY"})
# Finish reasons that end a candidate without a usable answer (google.genai.types.FinishReason), and whether the
# same model may do better on a retry: a malformed tool call or an unexplained stop may not recur; an unsupported
# language or a tool-call mistake will, so those move down the chain.
BAD_FINISH = {"OTHER": True, "MALFORMED_FUNCTION_CALL": True, "LANGUAGE": False, "UNEXPECTED_TOOL_CALL": False,
              "TOO_MANY_TOOL_CALLS": False}
KEY_VARIABLES_HINT = "GOOGLE_API_KEY or GEMINI_API_KEY"


@dataclass(frozen=True)
class Failure:
    kind: str
    message: str
    retry_same_model: bool = False
    retry_after_s: float | None = None
    fatal: bool = False  # no other model can help either (bad credentials)

    @property
    def transient(self) -> bool:
        return self.kind in TRANSIENT


def classify_exception(exc: BaseException) -> Failure:
    import httpx
    from langchain_core import exceptions as lc

    message = _first_line(exc)
    setting = configuration_problem(exc)
    if setting is not None:  # retrying cannot fix a setting, and every model of the chain shares it
        return Failure("configuration", setting, fatal=True)
    if isinstance(exc, lc.ContextOverflowError):
        return Failure("context_overflow", message)
    if isinstance(exc, lc.ModelRateLimitError):
        return Failure("rate_limited", message, True, retry_after(exc))
    if isinstance(exc, lc.ModelAuthenticationError | lc.ModelPermissionDeniedError) or _key_invalid(exc):
        # No other model can help: the same credentials go to all of them.
        return Failure("auth", f"the API key or credentials were refused ({message}); set a valid key in "
                       f"{KEY_VARIABLES_HINT} (or fix the Vertex AI credentials)", fatal=True)
    if isinstance(exc, lc.ModelNotFoundError):
        return Failure("not_found", message)
    if isinstance(exc, lc.ModelInvalidRequestError):
        return Failure("bad_request", message)
    if isinstance(exc, httpx.ConnectTimeout):  # no connection at all (a dead or firewalled host): the connect budget
        return Failure("connection", message, True)
    if isinstance(exc, httpx.TimeoutException | lc.ModelTimeoutError | TimeoutError):
        return Failure("timeout", message, True)
    if isinstance(exc, lc.ModelAPIError):
        return Failure("unavailable", message, True, retry_after(exc))
    if isinstance(exc, (httpx.TransportError, lc.ModelConnectionError, ConnectionError, *_aiohttp_errors())):
        return Failure("connection", message, True)
    if isinstance(exc, json.JSONDecodeError | _unknown_response()):
        return Failure("malformed", message, True)  # the server's body was not the JSON it promised
    return Failure("error", message, True)


def configuration_problem(exc: BaseException) -> str | None:
    """What setting is wrong when `exc` says the call could never be made: an endpoint URL the HTTP client
    cannot use (no host, another protocol), or no Google Cloud credentials for Vertex AI. None otherwise."""
    import httpx

    for err in _chain(exc):
        if isinstance(err, httpx.LocalProtocolError | UnicodeEncodeError):
            return (f"the request cannot be sent as HTTP ({_first_line(err)[:200]}): a header value, such as the "
                    "API key, holds a line break or a non-ASCII character")
        if isinstance(err, httpx.UnsupportedProtocol | httpx.InvalidURL):
            return (f"the endpoint URL is unusable ({_first_line(err)}); check --base-url, $TIERWISE_BASE_URL or "
                    "[endpoint] base_url")
        kind = f"{type(err).__module__}.{type(err).__name__}"
        if kind == "google.auth.exceptions.DefaultCredentialsError":
            return ("no Google Cloud credentials for Vertex AI: run `gcloud auth application-default login`, set "
                    "GOOGLE_APPLICATION_CREDENTIALS, or use an express-mode key in GOOGLE_API_KEY "
                    f"({_first_line(err)[:200]})")
    return None


def _aiohttp_errors() -> tuple[type, ...]:
    """google-genai sends async calls through aiohttp when it is installed: its dropped connections and cut
    streams (ServerDisconnectedError, ClientPayloadError) are connection failures too."""
    import sys

    aiohttp = sys.modules.get("aiohttp")  # loaded only if google-genai chose it; never imported here
    return (aiohttp.ClientError,) if aiohttp is not None else ()


def _unknown_response() -> type:
    from google.genai.errors import UnknownApiResponseError

    return UnknownApiResponseError


def _key_invalid(exc: BaseException) -> bool:
    """Gemini answers a bad key with 400 INVALID_ARGUMENT whose ErrorInfo reason is API_KEY_INVALID: an auth
    failure, not a bad request (retrying it on every model of the chain would only repeat it)."""
    for err in _chain(exc):
        details = getattr(err, "details", None)
        error = details.get("error", details) if isinstance(details, dict) else None
        for item in (error or {}).get("details", []) if isinstance(error, dict) else []:
            if isinstance(item, dict) and item.get("reason") in ("API_KEY_INVALID", "API_KEY_EXPIRED"):
                return True
    return False


def classify_answer(message: Any, text: str, schema_error: str | None, has_schema: bool) -> Failure | None:
    """None when the answer is usable; otherwise why not."""
    meta = getattr(message, "response_metadata", None) or {}
    feedback = meta.get("prompt_feedback") or {}
    block = str(feedback.get("block_reason") or "").upper().removeprefix("BLOCKEDREASON.")
    if block and block not in ("0", "BLOCKED_REASON_UNSPECIFIED"):
        # The prompt itself was refused, so no model of the chain would answer it either.
        return Failure("blocked_prompt", f"prompt blocked (promptFeedback.blockReason {block})", fatal=True)
    finish = str(meta.get("finish_reason") or "").upper().removeprefix("FINISHREASON.")
    if finish in BLOCKED_REASONS:
        return Failure("blocked", f"answer blocked (finishReason {finish})")
    if finish == "MAX_TOKENS":
        return Failure("truncated", "answer cut at max_output_tokens (finishReason MAX_TOKENS)")
    if finish in BAD_FINISH:
        return Failure("bad_finish", f"answer ended without a usable result (finishReason {finish})",
                       retry_same_model=BAD_FINISH[finish])
    if not text:
        return Failure("empty", "empty answer (no candidates or no text)", True)
    if has_schema and schema_error:
        return Failure("unusable", schema_error)
    return None


def retry_after(exc: BaseException) -> float | None:
    """Seconds from a Retry-After header or Google's RetryInfo.retryDelay, found on the wrapped SDK error."""
    for err in _chain(exc):
        headers = getattr(getattr(err, "response", None), "headers", None)
        if headers is not None:
            value = _header_seconds(headers.get("retry-after"))
            if value is not None:
                return value
        details = getattr(err, "details", None)
        value = _retry_info_seconds(details)
        if value is not None:
            return value
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _header_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime

        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _retry_info_seconds(details: Any) -> float | None:
    error = details.get("error", details) if isinstance(details, dict) else None
    for item in (error or {}).get("details", []) if isinstance(error, dict) else []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = re.fullmatch(r"\s*([\d.]+)s\s*", str(item.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text.splitlines()[0]}"[:500]
