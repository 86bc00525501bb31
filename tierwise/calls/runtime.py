"""The call path's resources, owned by one object the application builds and passes in.

`CallRuntime` holds what a model call needs beyond its arguments: where the registry comes from, the endpoint
settings and key, the hooks, the cooldowns, started emulators and the per-runtime resources that the layers above
keep here (the ledger pool, shadow workers, caches). `tierwise.Runtime` is the full one, with the default hooks.
Two runtimes in one process share nothing: neither sees the other's registry, calls, caps, cooldowns or records.

A call finds its runtime as LangGraph finds a checkpointer: passed in (`call_stage(..., runtime=rt)`), else bound
to the running graph (`build_graph(runtime=rt)` puts it in the graph's config), else the convenience default
(`tierwise.default_runtime()`, built from the environment on first use).
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from tierwise.context import Backend, Context, is_backend
from tierwise.errors import InvalidArgumentError, TierwiseError
from tierwise.tiers.registry import RECHECK_SECONDS, Registry, RegistrySource

from . import endpoint as _endpoint
from .cooldown import Cooldowns
from .hooks import CallHook

if TYPE_CHECKING:
    import os

    from .endpoint import Endpoint, Launcher

R = TypeVar("R")
CONFIG_KEY = "__tierwise_runtime"  # where a graph carries its runtime in its config ("__": never traced or stored)


Hooks = tuple[CallHook, ...]


class CallRuntime:
    """What calls share: see the module docstring. Build `tierwise.Runtime` rather than this directly."""

    def __init__(
        self,
        *,
        registry: Registry | str | os.PathLike[str] | None = None,
        backend: Backend = "auto",
        base_url: str | None = None,
        api_key: str | None = None,
        hooks: Iterable[CallHook] = (),
        launcher: Launcher | None = None,
        vertex_credentials: object | None = None,
        trusted_base_urls: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        import os

        if not is_backend(backend):
            raise InvalidArgumentError(f"backend must be one of auto, gemini, vertex, local, scripted; got {backend!r}")
        if api_key is not None and (not isinstance(api_key, str) or not api_key.strip()):
            raise InvalidArgumentError("api_key must be a non-empty string (or None to read GOOGLE_API_KEY)")
        if api_key is not None and not _endpoint.header_safe(api_key):
            raise InvalidArgumentError("api_key holds a space, a line break or a non-ASCII character: it cannot go "
                                       "in an HTTP header (strip the newline?)")
        if env is not None and not isinstance(env, Mapping):
            raise InvalidArgumentError(f"env must be a mapping of variable names to values, got {type(env).__name__}")
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.backend: Backend = backend
        self.base_url = _endpoint.check_base_url(base_url, "base_url") if base_url is not None else None
        self._api_key = api_key
        self._fixed: Registry | None = None
        self._path: str | None = None
        if isinstance(registry, Registry):
            self._fixed = registry
        elif registry is not None:
            if not isinstance(registry, str | os.PathLike):
                raise InvalidArgumentError(f"registry must be a tierwise Registry or a path to a registry TOML, "
                                           f"got {type(registry).__name__}")
            self._path = os.fspath(registry)
        self._registries = RegistrySource(self.env)
        self.hooks: tuple[CallHook, ...] = tuple(hooks)
        for hook in self.hooks:
            if not isinstance(hook, CallHook):
                raise InvalidArgumentError(f"hooks: each must subclass tierwise.calls.CallHook, got "
                                           f"{type(hook).__name__}")
        self._launcher = launcher
        self.vertex_credentials = vertex_credentials
        self._trusted = frozenset(_endpoint.normal_url(_endpoint.check_base_url(u, "trusted_base_urls"))
                                  for u in trusted_base_urls)
        self.cooldowns = Cooldowns()
        self._lock = threading.RLock()
        self._emulators: dict[str, Endpoint] = {}
        # per registry: (its enabled hooks, volatile ones included; the same without the volatile ones)
        self._hooks_by_registry: weakref.WeakKeyDictionary[Registry, tuple[Hooks, Hooks]] = weakref.WeakKeyDictionary()
        self._warm_until: dict[tuple[str | None, str, str | None], float] = {}
        self._resources: dict[Any, Any] = {}
        self.closed = False

    # -- what a call resolves -------------------------------------------------------------------------------
    def registry_for(self, context: Context | None = None) -> Registry:
        """The registry a call under `context` uses: the run's `registry_path` if it names one, else this
        runtime's (fixed, or its file followed for edits)."""
        path = context.registry_path if context is not None else None
        if path is None:
            return self._fixed if self._fixed is not None else self._registries.load(self._path)
        return self._registries.load(path)

    @property
    def registry(self) -> Registry:
        """This runtime's registry (a run's context may name another file)."""
        return self.registry_for(None)

    @property
    def api_key(self) -> str | None:
        return self._api_key if self._api_key is not None else _endpoint.api_key_from(self.env)

    def endpoint_for(self, context: Context, registry: Registry | None = None) -> Endpoint:
        """Where a call under `context` goes, with which key (tierwise/calls/endpoint.py says who gets the key)."""
        return _endpoint.resolve(context, registry, backend=self.backend, base_url=self.base_url,
                                 key=self.api_key, env=self.env, trusted=self._trusted,
                                 credentials=self.vertex_credentials,
                                 emulator=functools.partial(self._emulator) if self._launcher else None)

    def trust_base_url(self, url: str) -> None:
        """Name an endpoint the operator chose (the CLI's `--base-url`): it may receive the API key. Never call
        this with a URL that came from a request or a run's context."""
        self._trusted = self._trusted | {_endpoint.normal_url(_endpoint.check_base_url(url, "base_url"))}

    def local_model_available(self) -> bool:
        return self._launcher is not None and self._launcher.available("local")

    def hooks_for(self, registry: Registry) -> tuple[CallHook, ...]:
        """This runtime's hooks enabled for calls under `registry` (a disabled hook costs nothing)."""
        cached = self._hooks_by_registry.get(registry)
        if cached is None:
            hooks = tuple(hook for hook in self.hooks if hook.volatile or hook.enabled(registry))
            cached = self._hooks_by_registry[registry] = (hooks, tuple(hook for hook in hooks if not hook.volatile))
        hooks, steady = cached
        if len(steady) == len(hooks):
            return hooks
        # volatile hooks are asked on each call (CallHook.volatile); usually none is on (no OpenTelemetry set up)
        on = [hook for hook in hooks if hook.volatile and hook.enabled(registry)]
        return tuple(hook for hook in hooks if not hook.volatile or hook in on) if on else steady

    def resource(self, key: Any, factory: Callable[[], R]) -> R:
        """This runtime's instance of a per-runtime resource (a ledger pool, a worker pool, a cache), made by
        `factory` on first use and closed with the runtime: the layers above keep their state here, never in a
        module global."""
        found = self._resources.get(key)
        if found is None:
            with self._lock:
                found = self._resources.get(key)
                if found is None:
                    self._check_open()
                    found = self._resources[key] = factory()
        return found

    # -- async callers: file and socket work off the event loop ----------------------------------------------
    async def awarm(self, context: Context) -> None:
        """Do the call path's file and socket work (registry re-check, emulator start, hooks' own warm-up) in a
        worker thread, at most once a second, so async callers never block their event loop on it."""
        key = (context.registry_path, context.backend, context.base_url)
        if time.monotonic() < self._warm_until.get(key, 0.0) and (
                self._fixed is not None and context.registry_path is None
                or self._registries.fresh(context.registry_path or self._path) is not None):
            return
        await asyncio.to_thread(self.warm, context)
        self._warm_until[key] = time.monotonic() + RECHECK_SECONDS * 0.9

    def warm(self, context: Context) -> None:
        registry = self.registry_for(context)
        self.endpoint_for(context, registry)
        for hook in self.hooks_for(registry):
            hook.warm(registry)

    # -- life cycle ------------------------------------------------------------------------------------------
    def _emulator(self, backend: str) -> Endpoint:
        """Start (once per runtime) an emulator on 127.0.0.1 with a stand-in backend the caller chose."""
        assert self._launcher is not None
        with self._lock:
            if backend not in self._emulators:
                self._check_open()
                url = self._launcher.start(backend)
                self._emulators[backend] = _endpoint.Endpoint("emulator", url, _endpoint.EMULATOR_KEY, backend)
            return self._emulators[backend]

    def _check_open(self) -> None:
        if self.closed:
            raise TierwiseError("this tierwise Runtime is closed; build a new one")

    def close(self) -> None:
        """Close what this runtime opened: hooks' and resources' own `close()`, then its emulators. Idempotent."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            resources, self._resources = list(self._resources.values()), {}
        for thing in [*self.hooks, *resources, self._launcher]:
            close = getattr(thing, "close", None)
            if callable(close):
                close()

    def __enter__(self) -> CallRuntime:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    async def __aenter__(self) -> CallRuntime:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await asyncio.to_thread(self.close)


# -- finding a call's runtime ---------------------------------------------------------------------------------
_provider: Callable[[], CallRuntime] | None = None  # tierwise.runtime's default_runtime, set when it is imported


def set_default_provider(provider: Callable[[], CallRuntime]) -> None:
    """Called by tierwise.runtime on import: how to get the convenience default runtime (built on first use)."""
    global _provider
    _provider = provider


@functools.cache
def _child_config() -> Any:
    """LangChain's context variable holding the running node's config (imported on first use, not with tierwise;
    cached: this is asked several times a call)."""
    from langchain_core.runnables.config import var_child_runnable_config

    return var_child_runnable_config


def bound_runtime() -> CallRuntime | None:
    """The runtime of the graph running this code (`build_graph(runtime=...)`), if any."""
    config = _child_config().get()
    if not config:
        return None
    found = config.get("configurable", {}).get(CONFIG_KEY)
    return found if isinstance(found, CallRuntime) else None


def current_runtime(runtime: CallRuntime | None = None) -> CallRuntime:
    """`runtime` if given, else the running graph's, else the convenience default."""
    if runtime is not None:
        if not isinstance(runtime, CallRuntime):
            raise InvalidArgumentError(f"runtime must be a tierwise.Runtime, got {type(runtime).__name__}")
        return runtime
    config = _child_config().get()  # bound_runtime(), inlined: this is asked several times a call
    bound = config.get("configurable", {}).get(CONFIG_KEY) if config else None
    if isinstance(bound, CallRuntime):
        return bound
    if _provider is None:
        # The convenience default is built at the top (tierwise.runtime, with the default hooks), which registers
        # itself when imported; calls/ never imports it statically, so nothing above it loads until needed.
        import importlib

        importlib.import_module("tierwise.runtime")
    if _provider is None:  # pragma: no cover - tierwise.runtime registers it on import
        raise TierwiseError("no runtime: pass runtime=tierwise.Runtime(...)")
    return _provider()
