"""Calibrated routing: outcome tables, a learned pre-router, routing-economics metrics and calibration.

Importing this package is cheap: names are loaded on first use (numpy only; typer/rich only for the CLI).

    table = load_outcomes("outcomes.csv")            # FORMAT.md
    router = train_router(table); router.save("router.json")
    load_router("router.json").decide("Prove that ...", threshold=0.8)   # RouterDecision(model, index, ...)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierwise._lazy import lazy_exports

_EXPORTS = {
    "OutcomeError": "errors",
    "OutcomeTable": "table",
    "load_outcomes": "table",
    "table_from_rows": "table",
    "convert_routellm": "convert",
    "routellm_rows": "convert",
    "Featurizer": "features",
    "RouterDecision": "learned",
    "LearnedRouter": "learned",
    "train_router": "learned",
    "load_router": "learned",
    "Curve": "curves",
    "choose": "curves",
    "learned_curve": "curves",
    "oracle_curve": "curves",
    "random_curve": "curves",
    "score_curve": "curves",
    "OperatingPoint": "metrics",
    "pgr": "metrics",
    "apgr": "metrics",
    "cpt": "metrics",
    "aiq": "metrics",
    "at_quality": "metrics",
    "summarize": "metrics",
    "evaluate": "compare",
    "length_curve": "compare",
    "Calibration": "calibration",
    "calibrate": "calibration",
    "cascade": "calibration",
    "write_settings": "calibration",
    "TokenPrice": "pricing",
}

__all__ = [
    "Calibration",
    "Curve",
    "RouterDecision",
    "Featurizer",
    "LearnedRouter",
    "OperatingPoint",
    "OutcomeError",
    "OutcomeTable",
    "TokenPrice",
    "aiq",
    "apgr",
    "at_quality",
    "calibrate",
    "cascade",
    "choose",
    "convert_routellm",
    "cpt",
    "evaluate",
    "learned_curve",
    "length_curve",
    "load_outcomes",
    "load_router",
    "oracle_curve",
    "pgr",
    "random_curve",
    "routellm_rows",
    "score_curve",
    "summarize",
    "table_from_rows",
    "train_router",
    "write_settings",
]


__getattr__ = lazy_exports(__name__, {name: f".{module}" for name, module in _EXPORTS.items()}, globals())


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from .calibration import Calibration, calibrate, cascade, write_settings
    from .compare import evaluate, length_curve
    from .convert import convert_routellm, routellm_rows
    from .curves import Curve, choose, learned_curve, oracle_curve, random_curve, score_curve
    from .errors import OutcomeError
    from .features import Featurizer
    from .learned import LearnedRouter, RouterDecision, load_router, train_router
    from .metrics import OperatingPoint, aiq, apgr, at_quality, cpt, pgr, summarize
    from .pricing import TokenPrice
    from .table import OutcomeTable, load_outcomes, table_from_rows
