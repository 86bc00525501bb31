"""The call-path rules every `tierwise.Runtime` starts with (unless built with `default_hooks=False`): the ledger
(spend guard, reservations, persisted records), shadow traffic and, with tierwise[otel], OpenTelemetry spans (sent
once the application sets a tracer provider up). Nothing here runs at import: a Runtime calls `default_hooks` with
the resources it owns."""

from __future__ import annotations

import importlib.util

from tierwise.calls.hooks import CallHook
from tierwise.ledger import LedgerPool


def default_hooks(ledgers: LedgerPool) -> list[CallHook]:
    from tierwise.budget import LedgerHook
    from tierwise.shadow.hook import ShadowHook
    from tierwise.shadow.traffic import ShadowTraffic

    hooks: list[CallHook] = [LedgerHook(ledgers), ShadowHook(ShadowTraffic(ledgers))]
    if importlib.util.find_spec("opentelemetry") is not None:  # tierwise[otel]: spans once a provider is set up
        from tierwise.telemetry import OpenTelemetryHook

        hooks.append(OpenTelemetryHook())
    return hooks
