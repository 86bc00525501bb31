"""Where model calls go, and which key goes with them: Google's Gemini API, an endpoint the operator configured,
an endpoint a run's context names, or tierwise's in-process emulator.

Keys stay home. The API key from the environment goes only to Google's endpoint or to an endpoint the *operator*
configured — `--base-url` on the command line, $TIERWISE_BASE_URL, or `[endpoint] base_url` in the registry.
A `base_url` that arrives in a run's context (`Context(base_url=...)`, which any LangGraph Studio or Server client
can set) gets the placeholder key "emulator" unless it is that same operator endpoint: a client can point a run at
its own server, but never make this server send it the key. tierwise's own emulator gets the placeholder too.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

from tierwise.context import Context
from tierwise.errors import BackendUnavailableError, ConfigurationError
from tierwise.strict import url_problem

if TYPE_CHECKING:
    from tierwise.tiers import Registry

log = logging.getLogger("tierwise.calls")
KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
BASE_URL_VARIABLE = "TIERWISE_BASE_URL"  # the operator's own endpoint, which may receive the key
EMULATOR_KEY = "emulator"


@dataclass(frozen=True)
class Endpoint:
    kind: str  # "gemini" | "vertex" | "emulator" | "custom"
    base_url: str | None
    api_key: str = field(repr=False)  # never printed: repr=False keeps it out of logs and tracebacks
    backend: str = ""  # for the emulator: "local" or "scripted"
    project: str | None = None  # Vertex AI: project + location with credentials, or an express-mode key alone
    location: str | None = None

    def describe(self) -> str:
        if self.kind == "gemini":
            return "Gemini API"
        if self.kind == "vertex":
            where = f"project {self.project}, {self.location}" if self.project else "express mode"
            return f"Vertex AI ({where})" + (f" at {self.base_url}" if self.base_url else "")
        if self.kind == "emulator":
            return f"emulator ({self.backend}) at {self.base_url}"
        return f"endpoint {self.base_url}"


def api_key_from_env() -> str | None:
    """The API key from the environment, checked: a key with a space, a newline (`$(cat key.txt)`) or a non-ASCII
    character cannot go in an HTTP header, so it is a setting to fix now, not a failure to retry per call. The
    message names the variable, never the key."""
    for name in KEY_VARIABLES:
        key = os.environ.get(name)
        if key:
            if not (key.isascii() and key.isprintable()) or any(ch.isspace() for ch in key):
                raise ConfigurationError(f"{name} holds a space, a line break or a non-ASCII character; an API key "
                                         "is one word of letters, digits and - or _ (strip the newline?)")
            return key
    return None


_trusted: set[str] = set()


def trust_base_url(url: str) -> None:
    """Name an endpoint the operator chose (the CLI's `--base-url`): it may receive the API key from the
    environment. Never call this with a URL that came from a request or a run's context."""
    _trusted.add(_normal(url))


def operator_base_url(registry: Registry | None = None) -> str | None:
    """The operator's endpoint from the environment or the registry, if any (environment first)."""
    url = os.environ.get(BASE_URL_VARIABLE, "").strip()
    if url:
        problem = url_problem(url)
        if problem:  # a setting that can never work: refused at once, not retried as a dead server
            raise ConfigurationError(f"the environment variable {BASE_URL_VARIABLE} {problem}")
        return url.rstrip("/")
    configured = registry.data.endpoint.base_url if registry is not None else ""
    return configured.rstrip("/") or None


def resolve_endpoint(context: Context, registry: Registry | None = None) -> Endpoint:
    key = api_key_from_env()
    operator = operator_base_url(registry)
    if context.base_url:
        url = context.base_url.rstrip("/")
        trusted = _normal(url) in _trusted or (operator is not None and _normal(url) == _normal(operator))
        return Endpoint("custom", url, (key or EMULATOR_KEY) if trusted else EMULATOR_KEY)
    backend = context.backend
    if backend == "vertex":
        return vertex_endpoint(operator)
    if operator and backend in ("auto", "gemini"):  # the operator's proxy stands in for Google's endpoint
        if backend == "gemini" and not key:
            raise BackendUnavailableError("backend 'gemini' needs GOOGLE_API_KEY or GEMINI_API_KEY to be set")
        return Endpoint("custom", operator, key or EMULATOR_KEY)
    if backend == "gemini" or (backend == "auto" and key):
        if not key:
            raise BackendUnavailableError("backend 'gemini' needs GOOGLE_API_KEY or GEMINI_API_KEY to be set")
        return Endpoint("gemini", None, key)
    if backend == "auto":
        backend = "local" if local_model_available() else "scripted"
        if backend == "scripted":
            _warn_once("no API key and no local model: answers come from the scripted demo backend "
                       "(install tierwise[local] for a real local model)")
    return _emulator_endpoint(backend)


PROJECT_VARIABLE, LOCATION_VARIABLE = "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION"
DEFAULT_LOCATION = "global"  # where Gemini 3 models are served on Vertex AI


def vertex_endpoint(operator: str | None = None) -> Endpoint:
    """Vertex AI from the environment: GOOGLE_CLOUD_PROJECT (+ GOOGLE_CLOUD_LOCATION, default "global") with
    Application Default Credentials (or credentials given to `use_vertex_credentials`), else express mode with an
    API key in GOOGLE_API_KEY / GEMINI_API_KEY. `operator`: the operator's own endpoint for it, if configured."""
    project = os.environ.get(PROJECT_VARIABLE, "").strip() or None
    location = os.environ.get(LOCATION_VARIABLE, "").strip() or DEFAULT_LOCATION
    for name, value in ((PROJECT_VARIABLE, project), (LOCATION_VARIABLE, location)):
        if value is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.:_-]*", value):
            raise ConfigurationError(f"{name} = {value[:80]!r} is not a Google Cloud project id or location "
                                     "(letters, digits, '-', e.g. my-project / us-central1 / global)")
    key = api_key_from_env()
    if project is None and not key:
        raise BackendUnavailableError(
            f"backend 'vertex' needs {PROJECT_VARIABLE} (and optionally {LOCATION_VARIABLE}, default "
            f"{DEFAULT_LOCATION!r}) with Application Default Credentials (`gcloud auth application-default login`),"
            f" or a Vertex AI express-mode API key in {' or '.join(KEY_VARIABLES)}"
        )
    if project is not None:
        return Endpoint("vertex", operator, "", project=project, location=location)
    return Endpoint("vertex", operator, key or "")


_vertex_credentials: object | None = None


def use_vertex_credentials(credentials: object | None) -> None:
    """Credentials for Vertex AI's project mode (a google.auth Credentials object, e.g. impersonated or from a
    service account); None: Application Default Credentials, found by google-auth on the first call."""
    global _vertex_credentials
    _vertex_credentials = credentials


def vertex_credentials() -> object | None:
    return _vertex_credentials


@functools.lru_cache(maxsize=256)
def _normal(url: str) -> str:
    """Compare endpoints as the client will reach them: scheme and host case-insensitive, no trailing slash."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, ""))


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning(message)


class Launcher(Protocol):
    """Starts tierwise's emulator with a named backend ("local", "scripted"): the calls package knows only this
    interface; tierwise/defaults.py installs the real one (tierwise.emulator), so calls/ never imports it."""

    def available(self, backend: str) -> bool: ...

    def start(self, backend: str) -> str:
        """Start an emulator on 127.0.0.1 with `backend`; return its base URL."""
        ...


_launcher: Launcher | None = None


def set_launcher(launcher: Launcher | None) -> None:
    global _launcher
    _launcher = launcher


def local_model_available() -> bool:
    return _launcher is not None and _launcher.available("local")


_emulators: dict[str, Endpoint] = {}
_lock = threading.Lock()


def _emulator_endpoint(backend: str) -> Endpoint:
    """Start (once per process) an emulator on 127.0.0.1 with the chosen backend."""
    if backend not in ("local", "scripted"):
        raise BackendUnavailableError(f"unknown backend {backend!r}; choose auto, gemini, vertex, local or scripted")
    if _launcher is None:
        raise BackendUnavailableError(f"backend {backend!r} needs tierwise's emulator; import tierwise to install it")
    with _lock:
        if backend not in _emulators:
            _emulators[backend] = Endpoint("emulator", _launcher.start(backend), EMULATOR_KEY, backend)
        return _emulators[backend]
