"""Fault injection as data: which calls fail, and how.

A :class:`Fault` names a kind (how the call fails, see :data:`KINDS`), which models it hits (a
glob), when it fires (a seeded ``rate`` and/or a script: ``after`` / ``every`` / ``times``) and
the kind's parameters. :class:`Faults` holds a list of them plus per-model context windows, decides
for each call, and counts what it injected. It never touches HTTP, so any backend composes with it
(the server renders each kind as Gemini shows it on the wire: see ``faultwire``).
"""

from __future__ import annotations

import fnmatch
import math
import random
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from tierwise.errors import FaultSpecError

from .backend import GenerateRequest


def _number(value: Any) -> bool:
    """A finite number (not a bool): `inf` or `nan` as a wait would overflow or never end."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Gemini's finish and block reasons (FinishReason / BlockedReason in the API reference; a test keeps them
# equal to google-genai's enums).
FINISH_REASONS = (
    "STOP", "MAX_TOKENS", "SAFETY", "RECITATION", "LANGUAGE", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
    "MALFORMED_FUNCTION_CALL", "IMAGE_SAFETY", "UNEXPECTED_TOOL_CALL", "IMAGE_PROHIBITED_CONTENT", "NO_IMAGE",
    "IMAGE_RECITATION", "IMAGE_OTHER", "TOO_MANY_TOOL_CALLS", "CONTINUATION",
)
BLOCK_REASONS = ("SAFETY", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT", "IMAGE_SAFETY", "MODEL_ARMOR", "JAILBREAK")
SERVED_TIERS = ("standard", "flex", "priority")

# Each parameter: (check, what it must be).
_PARAMS: dict[str, tuple[Any, str]] = {
    "retry_after": (lambda v: _number(v) and 0 <= v <= 86_400, "a number of seconds in [0, 86400]"),
    "header": (lambda v: isinstance(v, bool), "true or false"),
    "retry_info": (lambda v: isinstance(v, bool), "true or false"),
    "message": (lambda v: isinstance(v, str) and bool(v), "a non-empty string"),
    "code": (lambda v: _int(v) and 500 <= v <= 599, "an HTTP 5xx code"),
    "delay_ms": (lambda v: _number(v) and 0 <= v <= 600_000, "a number of milliseconds in [0, 600000]"),
    "chunks": (lambda v: _int(v) and v >= 0, "a non-negative integer"),
    "tokens": (lambda v: v is None or (_int(v) and v >= 0), "a non-negative integer"),
    "limit": (lambda v: v is None or (_int(v) and v > 0), "a positive integer"),
    "finish_reason": (lambda v: v in FINISH_REASONS, f"one of {', '.join(FINISH_REASONS)}"),
    "block_reason": (lambda v: v in BLOCK_REASONS, f"one of {', '.join(BLOCK_REASONS)}"),
    "tier": (lambda v: v in SERVED_TIERS, f"one of {', '.join(SERVED_TIERS)}"),
}

#: Fault kinds and their parameters with defaults.
KINDS: dict[str, dict[str, Any]] = {
    # 429 RESOURCE_EXHAUSTED; Retry-After header and/or RetryInfo.retryDelay in error.details.
    "rate_limit": {"retry_after": 1.5, "header": True, "retry_info": True, "message": None},
    # 500 INTERNAL (or another 5xx ``code``).
    "server_error": {"code": 500, "message": None},
    # 503 UNAVAILABLE.
    "unavailable": {"message": None},
    # Answer normally after ``delay_ms`` (a client timeout turns this into a read timeout).
    "slow": {"delay_ms": 3000},
    # Wait ``delay_ms`` (bounded, so the server thread ends), then close without answering.
    "hang": {"delay_ms": 30_000},
    # HTTP 200 whose body (or, streamed, the chunk after ``chunks`` good ones) is not valid JSON.
    "malformed": {"chunks": 1},
    # HTTP 200 with ``"candidates": []``.
    "empty": {},
    # A candidate with finishReason SAFETY and no content.
    "safety": {},
    # The answer cut to ``tokens`` tokens (default: half) with finishReason MAX_TOKENS.
    "max_tokens": {"tokens": None},
    # Streamed: ``chunks`` chunks, then the connection closes mid-stream; otherwise: closed, no response.
    "stream_cut": {"chunks": 1},
    # 400 INVALID_ARGUMENT "The input token count (N) exceeds the maximum number of tokens allowed (M)."
    "context_overflow": {"limit": None, "message": None},
    # A blocked prompt: promptFeedback.blockReason, no candidates, usage with the prompt tokens only.
    "blocked": {"block_reason": "SAFETY"},
    # A candidate that ends with ``finish_reason`` (OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL, …) and no content.
    "finish": {"finish_reason": "OTHER"},
    # 400 INVALID_ARGUMENT "API key not valid", ErrorInfo reason API_KEY_INVALID.
    "api_key_invalid": {"message": None},
    # 403 PERMISSION_DENIED.
    "permission_denied": {"message": None},
    # Answer normally, but served at ``tier`` (a Priority request downgraded to Standard).
    "served_tier": {"tier": "standard"},
}

SCHEDULE = ("model", "rate", "times", "every", "after")


class Fault:
    """One fault spec. Fires on calls to models matching ``model`` (fnmatch glob):

    - ``after``: skip the first ``after`` matching calls;
    - ``every``: then only every ``every``-th matching call (``every=3``: calls 3, 6, … after ``after``);
    - ``rate``: then with this probability (seeded, see :class:`Faults`);
    - ``times``: at most this many times in all.

    With none of ``rate`` / ``every`` / ``times`` it fires on every matching call. ``params`` are
    the kind's parameters (:data:`KINDS`); unknown or ill-typed ones are a :class:`FaultSpecError`.
    """

    def __init__(
        self,
        kind: str,
        model: str = "*",
        *,
        rate: float | None = None,
        times: int | None = None,
        every: int | None = None,
        after: int = 0,
        **params: Any,
    ):
        if not isinstance(kind, str) or kind not in KINDS:
            raise FaultSpecError(f"unknown fault kind {kind!r} (known: {', '.join(KINDS)})")
        _require(isinstance(model, str) and bool(model), "model", "a model glob string")
        _require(rate is None or (_number(rate) and 0 <= rate <= 1), "rate", "a probability in [0, 1]")
        _require(times is None or (_int(times) and times > 0), "times", "a positive integer")
        _require(every is None or (_int(every) and every > 0), "every", "a positive integer")
        _require(_int(after) and after >= 0, "after", "a non-negative integer")
        defaults = KINDS[kind]
        for name, value in params.items():
            if name not in defaults:
                allowed = ", ".join([*SCHEDULE, *defaults])
                raise FaultSpecError(f"{name!r} does not apply to {kind} (allowed: {allowed})")
            check, what = _PARAMS[name]
            _require(check(value), name, what)
        self.kind = kind
        self.model = model
        self.rate = rate
        self.times = times
        self.every = every
        self.after = after
        self.params: dict[str, Any] = {**defaults, **params}
        self._given = dict(params)

    def __getattr__(self, name: str) -> Any:
        params = self.__dict__.get("params", {})
        if name in params:
            return params[name]
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"Fault({str(self)!r})"

    def __str__(self) -> str:
        """The compact form ``parse_faults`` reads back, e.g. ``rate_limit:0.2:model=gemini-*:retry_after=1``."""
        parts = [self.kind]
        if self.rate is not None:
            parts.append(f"{self.rate:g}")
        if self.model != "*":
            parts.append(f"model={self.model}")
        parts += [f"{k}={getattr(self, k)}" for k in ("times", "every") if getattr(self, k) is not None]
        if self.after:
            parts.append(f"after={self.after}")
        parts += [f"{k}={_show(v)}" for k, v in self._given.items()]
        return ":".join(parts)

    def matches(self, model: str) -> bool:
        return fnmatch.fnmatchcase(model, self.model)

    @classmethod
    def from_dict(cls, data: Fault | Mapping[str, Any], where: str = "fault") -> Fault:
        """Build from a mapping (a TOML table / JSON object), naming ``where`` on any error."""
        if isinstance(data, Fault):
            return data
        if not isinstance(data, Mapping):
            raise FaultSpecError(f"{where}: expected a table/object, got {type(data).__name__}")
        if "kind" not in data:
            raise FaultSpecError(f"{where}: missing 'kind' (one of {', '.join(KINDS)})")
        fields = {str(k): v for k, v in data.items()}
        try:
            return cls(fields.pop("kind"), **fields)
        except FaultSpecError as exc:
            raise FaultSpecError(f"{where}: {exc}") from None


class Faults:
    """Fault specs in order, the RNG seed, and per-model context windows.

    For each ``generateContent`` / ``streamGenerateContent`` call, every spec whose glob matches
    counts the call (and draws from its own RNG, seeded from ``seed`` and the spec itself, so adding
    a spec never changes another's draws); the first spec that wants to fire is applied. Sequential
    calls are therefore reproducible for a given seed; concurrent ones in arrival order.
    ``context_windows`` maps model globs to input token limits (exact ids win over globs): a prompt
    above its model's window gets Gemini's real token-limit 400. Thread-safe.
    """

    def __init__(
        self,
        faults: Iterable[Fault | Mapping[str, Any]] = (),
        *,
        seed: int = 0,
        context_windows: Mapping[str, int] | None = None,
    ):
        _require(_int(seed), "seed", "an integer")
        self.faults = [Fault.from_dict(f, f"faults[{i}]") for i, f in enumerate(faults)]
        self.seed = seed
        self.context_windows = dict(context_windows or {})
        for glob, window in self.context_windows.items():
            if not (isinstance(glob, str) and _int(window) and window > 0):
                raise FaultSpecError(f"context_windows[{glob!r}]: must be a positive integer, got {window!r}")
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Restart every schedule and RNG and zero the counters, as if freshly built."""
        with self._lock:
            # Seeded by the spec's own text (and its repeat count), not its position: adding or removing
            # another spec leaves this one's draws unchanged.
            names = [str(f) for f in self.faults]
            self._rngs = [random.Random(f"{self.seed}/{n}/{names[:i].count(n)}") for i, n in enumerate(names)]
            self._seen = [0] * len(self.faults)
            self._fired = [0] * len(self.faults)
            self._applied: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"Faults({str(self)!r})"

    def __str__(self) -> str:
        """The compact spec ``parse_faults`` reads back."""
        items = [str(f) for f in self.faults]
        items += [f"seed={self.seed}"] if self.seed else []
        items += [f"window:{glob}={size}" for glob, size in self.context_windows.items()]
        return ",".join(items)

    def __bool__(self) -> bool:
        return bool(self.faults or self.context_windows)

    def pick(self, request: GenerateRequest) -> Fault | None:
        """The fault to inject into ``request`` (recorded as ``request.fault``), or ``None``."""
        chosen: Fault | None = None
        with self._lock:
            for i, fault in enumerate(self.faults):
                if not fault.matches(request.model):
                    continue
                self._seen[i] += 1
                n = self._seen[i] - fault.after
                draw = self._rngs[i].random() if fault.rate is not None else 0.0
                wants = (
                    n > 0
                    and (fault.every is None or n % fault.every == 0)
                    and (fault.times is None or self._fired[i] < fault.times)
                    and (fault.rate is None or draw < fault.rate)
                )
                if wants and chosen is None:
                    chosen = fault
                    self._fired[i] += 1
                    self._applied[fault.kind] += 1
        request.fault = chosen.kind if chosen is not None else None
        return chosen

    @property
    def applied(self) -> dict[str, int]:
        """How many calls got each fault kind so far."""
        with self._lock:
            return dict(self._applied)

    def context_window(self, model: str) -> int | None:
        """The window set for ``model`` (exact id first, then the first matching glob), else ``None``."""
        return window_for(self.context_windows, model)


def window_for(windows: Mapping[str, int], model: str) -> int | None:
    """``windows[model]``, else the first glob in ``windows`` matching ``model``, else ``None``."""
    if model in windows:
        return windows[model]
    return next((w for glob, w in windows.items() if fnmatch.fnmatchcase(model, glob)), None)


def _require(ok: bool, key: str, what: str) -> None:
    if not ok:
        raise FaultSpecError(f"{key} must be {what}")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)
