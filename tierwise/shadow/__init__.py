"""Shadow traffic, in one place: a sample of answered calls re-run one tier up in the background, both answers
judged blind, and the pair stored in the ledger (`tierwise_shadow`). `traffic.py` schedules and runs the samples
(a Runtime owns one: `runtime.shadow`); `hook.py` plugs it into the call path; the ledger stores the pairs
(tierwise/ledger/shadow.py) and `tierwise suggest` and `tierwise router train --from-ledger` read them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierwise._lazy import lazy_exports

_EXPORTS = {"ShadowTraffic": ".traffic", "ShadowHook": ".hook"}
__all__ = ["ShadowHook", "ShadowTraffic"]

if TYPE_CHECKING:
    from .hook import ShadowHook
    from .traffic import ShadowTraffic

__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
