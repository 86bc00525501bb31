"""What the HTTP layer and the answer producers agree on.

The emulator parses Gemini's wire format into a :class:`GenerateRequest`, asks a backend for a
:class:`Generation`, and renders that back into Gemini's wire format. Backends never see HTTP,
headers or API keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def status_for(code: int) -> str:
    """Google's canonical status name for an HTTP code."""
    return _STATUS.get(code, "UNKNOWN")


class BackendError(Exception):
    """An error the emulator returns to the client in Google's ``{"error": {...}}`` shape.

    ``details`` become ``error.details`` (typed ``google.rpc`` messages such as RetryInfo);
    ``headers`` are extra HTTP response headers (e.g. ``Retry-After``).
    """

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or status_for(code)
        self.details = details or []
        self.headers = headers or {}


def token_limit_error(count: int, limit: int) -> BackendError:
    """The 400 Gemini returns when a prompt does not fit the model's context window."""
    return BackendError(
        400, f"The input token count ({count}) exceeds the maximum number of tokens allowed ({limit})."
    )


@dataclass
class GenerateRequest:
    """One parsed ``generateContent`` / ``streamGenerateContent`` / ``countTokens`` call.

    ``messages`` holds ``(role, text)`` pairs with Gemini roles (``user`` / ``model``) plus
    ``tool`` for each ``functionResponse`` part, as ``"name: result"`` (the result's lone
    ``output`` / ``result`` / ``content`` string, else its JSON). Other non-text parts (images,
    the model's own function calls) and thought parts are dropped. ``tools`` lists the declared
    functions (``functionDeclarations``, flattened); ``tool_config`` is sent ``toolConfig``.
    ``fault`` is set by the emulator to the kind of fault it injected into this call, if any.
    ``media_tokens`` holds the prompt tokens of inlineData / fileData parts by modality (IMAGE, AUDIO, …):
    the emulator adds them to whatever the backend counts for the text. ``service_tier`` is the requested
    ``serviceTier`` (lower case, ``SERVICE_TIER_`` prefix dropped); ``served_tier`` is set by the emulator
    to the tier that served it. ``call_signatures`` holds, for each model content that calls functions, the
    ``thoughtSignature`` its first ``functionCall`` part came back with (None: none), oldest first.
    """

    model: str
    system: str = ""
    messages: list[tuple[str, str]] = field(default_factory=list)
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop_sequences: list[str] = field(default_factory=list)
    response_mime_type: str | None = None
    json_schema: dict[str, Any] | None = None
    thinking_budget: int | None = None
    thinking_level: str | None = None
    include_thoughts: bool = False
    stream: bool = False
    method: str = "generateContent"
    generation_config: dict[str, Any] = field(default_factory=dict)
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_config: dict[str, Any] | None = None
    fault: str | None = None
    media_tokens: dict[str, int] = field(default_factory=dict)
    service_tier: str | None = None
    cached_content: str | None = None
    cache_tokens: int = 0  # the explicit cache's tokens in front of this prompt (reported as cachedContentTokenCount)
    served_tier: str | None = None
    call_signatures: list[str | None] = field(default_factory=list)
    # Set by the emulator from the catalogue: the level the model thinks at (the one sent, else the model's
    # default per Google's model pages), and whether it ignored temperature/topP/topK (fixed sampling).
    effective_thinking_level: str | None = None
    sampling_ignored: bool = False
    google_search: bool = False  # a googleSearch tool is bound: the model may ground on Google Search
    continuation_token: str | None = None  # sent back to resume an answer (google-genai automatic continuation)

    @property
    def media_token_count(self) -> int:
        return sum(self.media_tokens.values())

    @property
    def user(self) -> str:
        """All user-turn text, newline-joined: what :class:`Rule` ``user`` patterns search."""
        return "\n".join(text for role, text in self.messages if role == "user")

    @property
    def tool(self) -> str:
        """All tool results (``name: result``), newline-joined: what :class:`Rule` ``tool`` patterns search."""
        return "\n".join(text for role, text in self.messages if role == "tool")

    @property
    def function_names(self) -> list[str]:
        """Names of the functions the model may call now (``toolConfig`` mode and allow-list applied)."""
        calling = (self.tool_config or {}).get("functionCallingConfig") or {}
        if str(calling.get("mode", "")).upper() == "NONE":
            return []
        names = [name for d in self.tools if isinstance(name := d.get("name"), str)]
        allowed = calling.get("allowedFunctionNames")
        return [n for n in names if n in allowed] if isinstance(allowed, list) and allowed else names

    @property
    def wants_json(self) -> bool:
        return self.json_schema is not None or self.response_mime_type == "application/json"


@dataclass
class Generation:
    """A backend's answer; token counts become ``usageMetadata``.

    ``output_tokens`` counts visible text and function calls (Gemini's ``candidatesTokenCount``);
    ``thoughts_tokens`` is reported separately as ``thoughtsTokenCount``. ``tool_calls`` are
    ``{"name", "args"}`` dicts sent as ``functionCall`` parts after the text. ``block_reason`` turns the
    answer into a blocked prompt (``promptFeedback.blockReason``, no candidates). ``served_tier`` is the
    service tier that served the call (default: the one requested, else standard).
    """

    text: str
    prompt_tokens: int
    output_tokens: int
    thoughts_tokens: int = 0
    finish_reason: str = "STOP"
    cached_tokens: int = 0
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    block_reason: str | None = None
    served_tier: str | None = None
    search_queries: list[str] = field(default_factory=list)
    continuation_token: str | None = None  # base64: the answer goes on in a next request that sends it back


@runtime_checkable
class Backend(Protocol):
    """Produces answers. Must be safe to call from many server threads at once."""

    context_window: int

    def generate(self, request: GenerateRequest) -> Generation:
        """Answer ``request``; raise :class:`BackendError` for a client-visible error."""
        ...

    def count_tokens(self, request: GenerateRequest) -> int:
        """Prompt tokens ``request`` would use (system + contents), as ``generate`` would report."""
        ...
