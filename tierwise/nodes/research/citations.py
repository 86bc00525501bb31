"""Check an answer's citations against the documents the model was shown. An id it was not shown is removed
from the text and reported: a reader must be able to open every source the answer names."""

from __future__ import annotations

import re
from collections.abc import Container

# [id] or [id, id] (also ; separated), not a markdown link [text](url); leading spaces go with a removed one.
_BRACKETS = re.compile(r"(\s*)\[([^\[\]\n]{1,300})\](?!\()")
_ID = re.compile(r"^[\w./-]+$")


def check(text: str, known: Container[str]) -> tuple[str, list[str], list[str]]:
    """(the text without unknown citations, known ids cited, unknown ids cited), ids in order of appearance."""
    cited: dict[str, None] = {}
    unknown: dict[str, None] = {}

    def fix(match: re.Match[str]) -> str:
        space, inside = match.groups()
        ids = [part.strip() for part in re.split(r"[,;]", inside)]
        if not all(_ID.match(i) for i in ids):
            return match.group(0)  # prose in brackets, not a citation
        good = [i for i in ids if i in known]
        cited.update(dict.fromkeys(good))
        unknown.update(dict.fromkeys(i for i in ids if i not in known))
        return f"{space}[{', '.join(good)}]" if good else ""

    return _BRACKETS.sub(fix, text).strip(), list(cited), list(unknown)
