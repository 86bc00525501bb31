"""The package's default call-path rules, registered when `tierwise` is imported and built on the first call: the
ledger (spend guard and persisted records), shadow traffic, and the in-process emulator for the offline backends.

Replace or remove them with `tierwise.calls.hooks` (`install`, `uninstall("ledger")`, `replace_all`); the calls
package itself imports none of ledger/, evals/ or emulator/.
"""

from __future__ import annotations

import importlib.util

from tierwise.calls import endpoint, hooks


def default_hooks() -> list[hooks.CallHook]:
    from tierwise.evals.shadow_hook import ShadowHook
    from tierwise.ledger.hook import LedgerHook

    defaults: list[hooks.CallHook] = [LedgerHook(), ShadowHook()]
    if importlib.util.find_spec("opentelemetry") is not None:  # tierwise[otel]: spans once a provider is set up
        from tierwise.telemetry import OpenTelemetryHook

        defaults.append(OpenTelemetryHook())
    return defaults


class _Launcher:
    """The emulator launcher, imported on first use (tierwise/emulator/launch.py)."""

    def available(self, backend: str) -> bool:
        from tierwise.emulator.launch import EmulatorLauncher

        return EmulatorLauncher().available(backend)

    def start(self, backend: str) -> str:
        from tierwise.emulator.launch import EmulatorLauncher

        return EmulatorLauncher().start(backend)


def install() -> None:
    hooks.set_defaults(default_hooks)
    endpoint.set_launcher(_Launcher())
