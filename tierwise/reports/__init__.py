"""Reports on what was spent: the ledger read back as tables, HTML and PNG, and the `tierwise report` command.

    from tierwise.ledger import open_ledger
    from tierwise.reports import build_report
    with open_ledger() as ledger:
        report = build_report(ledger.entries())

The ledger (tierwise.ledger) stores and enforces; this package only reads and shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierwise._lazy import lazy_exports

_EXPORTS = {
    "Report": ".report",
    "build_report": ".report",
    "render_html": ".html",
    "render_png": ".png",
    "render_text": ".text",
}
__all__ = ["Report", "build_report", "render_html", "render_png", "render_text"]

if TYPE_CHECKING:
    from .html import render_html
    from .png import render_png
    from .report import Report, build_report
    from .text import render_text

__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
