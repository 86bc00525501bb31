"""The call-path rules every `tierwise.Runtime` starts with (unless built with `default_hooks=False`): the ledger
(spend guard, reservations, persisted records) and shadow traffic. Nothing here runs at import: a Runtime calls
`default_hooks` with the resources it owns."""

from __future__ import annotations

from tierwise.calls.hooks import CallHook
from tierwise.ledger.url import LedgerPool


def default_hooks(ledgers: LedgerPool) -> list[CallHook]:
    from tierwise.evals.shadow import ShadowTraffic
    from tierwise.evals.shadow_hook import ShadowHook
    from tierwise.ledger.hook import LedgerHook

    return [LedgerHook(ledgers), ShadowHook(ShadowTraffic(ledgers))]
