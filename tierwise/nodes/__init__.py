"""One module per node. A node names its stage, builds its prompt, and reads/writes state.

What your own nodes use (also exported from `tierwise`): `Stage` (a stage declared once), `StageCall` and
`stage_node` (a node around one stage call). The node modules are the graphs' internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierwise._lazy import lazy_exports

_EXPORTS = {"Stage": ".declare", "StageCall": ".base", "stage_node": ".base"}

__all__ = ["Stage", "StageCall", "stage_node"]

if TYPE_CHECKING:
    from .base import StageCall, stage_node
    from .declare import Stage

__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
