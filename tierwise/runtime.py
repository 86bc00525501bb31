"""`tierwise.Runtime`: the one object an application builds, passes in and closes.

    import tierwise
    with tierwise.Runtime(registry=tierwise.build_registry("tierwise.toml"), ledger="sqlite:///spend.db") as rt:
        graph = tierwise.build_graph(runtime=rt)
        graph.invoke({"input": "Refund my order 1182, it arrived broken."})

It owns the registry, the ledgers and spend guard, the hooks, the endpoint and key, cooldowns, shadow traffic,
started emulators and every cache: two runtimes in one process share none of them. `Runtime.from_env()` is what
the CLI and `langgraph.json` use. `default_runtime()` is a convenience, built from the environment on first use.
Importing tierwise builds nothing, starts no thread, opens no file and reads no environment variable.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from tierwise.calls.hooks import CallHook
from tierwise.calls.runtime import CallRuntime, set_default_provider
from tierwise.context import Backend
from tierwise.errors import InvalidArgumentError
from tierwise.inputs import named_arguments
from tierwise.ledger import LedgerPool
from tierwise.nodes.declare import Stage
from tierwise.tiers import Registry

if TYPE_CHECKING:
    from tierwise.budget import SpendGuard


class Runtime(CallRuntime):
    """The registry, ledger, hooks and endpoint that calls use (see the module docstring).

    `registry`: a Registry (fixed), or a path to a registry TOML (followed for edits), or None for
    $TIERWISE_REGISTRY / ./tierwise.toml. `ledger`: a ledger URL or path (default: $TIERWISE_LEDGER_URL, the
    registry's `[ledger] url`, else the user's data folder). `backend`: "auto" and "gemini" need a key
    (`api_key`, else GOOGLE_API_KEY / GEMINI_API_KEY) — never a silent stand-in; "local" and "scripted" answer from
    tierwise's emulator, recorded apart from real spend unless `ledger` names where. `hooks`: your own rules, run
    after the defaults (`default_hooks=False`: none of the defaults). `trusted_base_urls`: endpoints you chose that
    may receive the key (the CLI's --base-url). `env`: where settings are read (default: os.environ, live).
    `stages`: your own declared stages (tierwise.Stage): the scripted backend answers them with their `demo`.
    """

    @named_arguments
    def __init__(
        self,
        *,
        registry: Registry | str | os.PathLike[str] | None = None,
        ledger: str | os.PathLike[str] | None = None,
        backend: Backend = "auto",
        base_url: str | None = None,
        api_key: str | None = None,
        hooks: Iterable[CallHook] = (),
        default_hooks: bool = True,
        vertex_credentials: object | None = None,
        trusted_base_urls: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
        stages: Iterable[Stage] = (),
    ) -> None:
        from tierwise.defaults import default_hooks as defaults
        from tierwise.emulator.launch import EmulatorLauncher

        if isinstance(hooks, CallHook) or not isinstance(hooks, Iterable):
            raise InvalidArgumentError(f"hooks must be a list of CallHook, got {type(hooks).__name__}")
        if not isinstance(default_hooks, bool):
            raise InvalidArgumentError(f"default_hooks must be True or False, got {default_hooks!r}")
        stages = list(stages) if isinstance(stages, Iterable) else stages
        if not isinstance(stages, list) or not all(isinstance(s, Stage) for s in stages):
            raise InvalidArgumentError("stages must be a list of tierwise.Stage declarations")
        demo_rules = [rule for stage in stages for rule in stage.demo_rules()]
        if ledger is not None and not isinstance(ledger, str | os.PathLike):
            raise InvalidArgumentError(f"ledger must be a ledger URL or a path, got {type(ledger).__name__}")
        self.ledgers = LedgerPool(os.fspath(ledger) if ledger is not None else None,
                                  env=os.environ if env is None else env)
        own = defaults(self.ledgers) if default_hooks else []
        super().__init__(registry=registry, backend=backend, base_url=base_url, api_key=api_key,
                         hooks=[*own, *hooks], launcher=EmulatorLauncher(demo_rules),
                         vertex_credentials=vertex_credentials,
                         trusted_base_urls=trusted_base_urls, env=env)
        self._resources[LedgerPool] = self.ledgers  # closed with the runtime

    @classmethod
    def from_env(cls, **settings: Any) -> Runtime:
        """The runtime the CLI and `langgraph.json` use: everything from the environment and ./tierwise.toml,
        followed for edits; `settings` as for Runtime()."""
        return cls(**settings)

    @property
    def shadow(self) -> Any:
        """This runtime's shadow traffic (`drain()`, `stats()`), or None when its hooks have none."""
        hook = self.hook("shadow")
        return getattr(hook, "traffic", None)

    def spend_guard(self, registry: Registry, *, stand_in: bool = False) -> SpendGuard:
        """The spend guard on the ledger this runtime's calls under `registry` record into (the one its ledger hook
        enforces the caps with): `after_call` records a call made outside the call path."""
        from tierwise.budget import spend_guard

        return spend_guard(self.ledgers, registry, stand_in=stand_in)

    def hook(self, name: str) -> CallHook | None:
        """This runtime's hook called `name` ("ledger", "shadow", or yours), if any."""
        return next((h for h in self.hooks if h.name == name), None)

    def __repr__(self) -> str:
        where = "fixed registry" if self._fixed is not None else (self._path or "registry from the environment")
        return f"<tierwise.Runtime backend={self.backend} {where} hooks={[h.name for h in self.hooks]}>"


_default: Runtime | None = None
_default_lock = threading.Lock()


def default_runtime() -> Runtime:
    """The convenience runtime, `Runtime.from_env()`, built on first use and kept for the process. Applications
    that need more than one configuration build their own Runtime and pass it."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Runtime.from_env()
    return _default


def reset_default_runtime() -> None:
    """Close and forget the convenience runtime (tests; a process that changed its environment)."""
    global _default
    with _default_lock:
        old, _default = _default, None
    if old is not None:
        old.close()


set_default_provider(default_runtime)


def command_runtime(backend: str, base_url: str | None = None, *, offline_local: bool = False,
                    env: Mapping[str, str] | None = None) -> tuple[Runtime, str]:
    """The runtime a `tierwise` command runs on, and the backend it answers from. `--base-url` is the operator's
    own choice on the command line, so it may receive the key. `offline_local` (`tierwise run` only): with no key
    and no endpoint, "auto" takes the local model if it is installed — the README's first command — and the
    caller says so; everywhere else "auto" without a key is an error."""
    from tierwise.calls.endpoint import BASE_URL_VARIABLE, api_key_from
    from tierwise.context import is_backend

    if not is_backend(backend):
        raise InvalidArgumentError(f"backend must be one of auto, gemini, vertex, local, scripted; got "
                                   f"{backend!r}")
    env = os.environ if env is None else env
    chosen = backend
    if backend == "auto" and not base_url and not api_key_from(env) and not env.get(BASE_URL_VARIABLE, "").strip():
        probe = Runtime(env=env, default_hooks=False)
        local = offline_local and probe.local_model_available()
        probe.close()
        chosen = "local" if local else backend
    runtime = Runtime(backend=chosen, trusted_base_urls=[base_url] if base_url else (), env=env)
    return runtime, chosen
