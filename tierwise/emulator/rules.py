"""The scripted-answer rule format, from Python, dicts, JSON or TOML.

Rules are data so a demo or test can live in a file; every loading error names the file, the rule
index and the offending key, because a typo in a fixture should fail loudly, not silently fall
through to another rule.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tierwise.errors import EmulatorRuleError, InputFileError
from tierwise.strict import loads_json, loads_toml, read_text

from .faults import BLOCK_REASONS, FINISH_REASONS, SERVED_TIERS


@dataclass
class Rule:
    """One scripted answer. The first rule whose patterns all match answers.

    ``model`` is an fnmatch glob on the model id; ``system`` / ``user`` / ``tool`` are regexes
    searched (``re.search``) in the system instruction / the newline-joined user turns / the
    newline-joined tool results, each ``"name: result"`` (``None`` = any). ``reply`` is the
    answer text; a dict or list is sent as JSON text. Named groups of the ``system``, ``user``
    and ``tool`` patterns, and ``model``, can be spliced into string replies (also inside
    dict/list replies and ``tool_calls`` args) as ``$name`` / ``${name}``.

    ``tool_calls`` makes the model call functions: a list of ``{"name": ..., "args": {...}}``,
    sent as ``functionCall`` parts (after ``reply`` text, if any). The request must declare each
    name (``bind_tools``), else the call is a 400 naming the rule's mistake. A tool loop is
    rules in order, most advanced step first::

        Rule(tool=r"search: (?P<found>.+)", reply="It is $found."),  # 2. a result came back: answer
        Rule(user=r"weather in (?P<city>[A-Za-z]+)", tool_calls=[{"name": "search", "args": {"q": "$city"}}]),

    ``thoughts`` is the thoughtsTokenCount to report (capped by a request's thinking budget; a
    budget of 0 turns it off). ``delay_ms`` sleeps before answering. ``finish_reason`` overrides
    the computed one (``STOP`` / ``MAX_TOKENS``; any Gemini FinishReason such as ``OTHER``,
    ``LANGUAGE``, ``MALFORMED_FUNCTION_CALL``). ``blocked`` answers as a blocked prompt with this
    ``promptFeedback.blockReason`` (``SAFETY``, ``OTHER``, …): no candidates. ``served_tier`` reports the
    call as served at that service tier (``standard`` for a Priority request Gemini downgraded). ``searches``
    are the Google Search queries the model runs when the request binds a ``googleSearch`` tool (reported as
    ``groundingMetadata.webSearchQueries``, billed per query); without the tool it cannot search. ``hops``
    splits the reply over that many requests: each but the last ends with finishReason ``CONTINUATION`` and a
    ``continuationToken``, which google-genai sends back (automatic continuation); each hop bills its prompt.
    ``error`` answers with an HTTP error instead: a code, or ``{"code", "message", "status"}``.
    ``times`` makes the rule match only that many times (so a later rule takes over: scripted
    retries). ``cached_tokens`` is reported as cachedContentTokenCount (part of the prompt count, as in Gemini).
    """

    model: str = "*"
    system: str | None = None
    user: str | None = None
    reply: str | dict | list = ""
    thoughts: int = 0
    delay_ms: float = 0
    finish_reason: str | None = None
    error: int | dict | None = None
    times: int | None = None
    cached_tokens: int = 0
    tool: str | None = None  # after the older fields, so positional construction keeps working
    tool_calls: list[dict] | None = None
    blocked: str | None = None
    served_tier: str | None = None
    searches: list[str] | None = None  # Google Search queries the model runs, when a googleSearch tool is bound
    hops: int = 1  # >1: the answer comes in this many requests, linked by continuationToken (finish CONTINUATION)
    _system_re: re.Pattern | None = field(init=False, repr=False, compare=False, default=None)
    _user_re: re.Pattern | None = field(init=False, repr=False, compare=False, default=None)
    _tool_re: re.Pattern | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        _check(isinstance(self.model, str), "model", "must be a glob string")
        self._system_re = _compile(self.system, "system")
        self._user_re = _compile(self.user, "user")
        self._tool_re = _compile(self.tool, "tool")
        _check(
            self.tool_calls is None or _valid_calls(self.tool_calls),
            "tool_calls",
            'must be a non-empty list of {"name": str, "args": table/object}',
        )
        _check(isinstance(self.reply, str | dict | list), "reply", "must be a string, table/object or list")
        for name in ("thoughts", "cached_tokens"):
            value = getattr(self, name)
            _check(
                isinstance(value, int) and not isinstance(value, bool) and value >= 0,
                name,
                "must be a non-negative integer",
            )
        _check(
            isinstance(self.delay_ms, int | float) and self.delay_ms >= 0,
            "delay_ms",
            "must be a non-negative number",
        )
        _check(
            self.finish_reason is None or self.finish_reason in FINISH_REASONS,
            "finish_reason",
            f"must be one of {', '.join(FINISH_REASONS)}",
        )
        _check(
            self.blocked is None or self.blocked in BLOCK_REASONS,
            "blocked",
            f"must be one of {', '.join(BLOCK_REASONS)}",
        )
        _check(
            self.served_tier is None or self.served_tier in SERVED_TIERS,
            "served_tier",
            f"must be one of {', '.join(SERVED_TIERS)}",
        )
        _check(
            self.times is None or (isinstance(self.times, int) and self.times > 0),
            "times",
            "must be a positive integer",
        )
        _check(isinstance(self.hops, int) and not isinstance(self.hops, bool) and self.hops >= 1, "hops",
               "must be a positive integer")
        _check(self.searches is None or (isinstance(self.searches, list)
                                         and all(isinstance(q, str) and q for q in self.searches)),
               "searches", "must be a list of non-empty strings")
        _check(
            self.error is None or _valid_error(self.error),
            "error",
            "must be an HTTP code (400-599) or {code, message, status}",
        )

    def match(self, model: str, system: str, user: str, tool: str = "") -> dict[str, str] | None:
        """Template variables if this rule applies to the prompt, else ``None``."""
        if not fnmatch.fnmatchcase(model, self.model):
            return None
        variables = {"model": model}
        for pattern, text in ((self._system_re, system), (self._user_re, user), (self._tool_re, tool)):
            if pattern is None:
                continue
            found = pattern.search(text)
            if not found:
                return None
            variables.update({k: v for k, v in found.groupdict().items() if v is not None})
        return variables

    @classmethod
    def from_dict(cls, data: Rule | dict[str, Any], where: str = "rule") -> Rule:
        """Build a rule from a plain mapping, naming ``where`` and the key on any error."""
        if isinstance(data, Rule):
            return data
        if not isinstance(data, dict):
            raise EmulatorRuleError(f"{where}: expected a table/object, got {type(data).__name__}")
        allowed = [f.name for f in fields(cls) if f.init]
        for key in data:
            if key not in allowed:
                raise EmulatorRuleError(f"{where}: unknown key {key!r} (allowed: {', '.join(allowed)})")
        try:
            return cls(**data)
        except EmulatorRuleError as exc:
            raise EmulatorRuleError(f"{where}.{exc}") from None


def _check(ok: bool, key: str, problem: str) -> None:
    if not ok:
        raise EmulatorRuleError(f"{key}: {problem}")


def _compile(pattern: str | None, key: str) -> re.Pattern | None:
    if pattern is None:
        return None
    _check(isinstance(pattern, str), key, "must be a regex string")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise EmulatorRuleError(f"{key}: invalid regex {pattern!r}: {exc}") from None


def _valid_calls(calls: Any) -> bool:
    return (
        isinstance(calls, list)
        and bool(calls)
        and all(
            isinstance(c, dict)
            and set(c) <= {"name", "args"}
            and isinstance(c.get("name"), str)
            and bool(c["name"])
            and isinstance(c.get("args", {}), dict)
            for c in calls
        )
    )


def _valid_error(error: Any) -> bool:
    if isinstance(error, dict):
        return set(error) <= {"code", "message", "status"} and _valid_error(error.get("code"))
    return isinstance(error, int) and not isinstance(error, bool) and 400 <= error <= 599


def load_rules(path: str | Path) -> tuple[list[Rule], dict[str, Any]]:
    """Read ``[[rules]]`` (TOML) or ``{"rules": [...]}`` / ``[...]`` (JSON) from ``path``.

    Returns the rules and the remaining top-level options (only ``context_window`` is allowed).
    """
    path = Path(path)
    try:  # the strict layer: no NaN/Infinity, bounded nesting and numbers, errors naming the file and line
        raw = read_text(path, what="rule file")
        data = loads_toml(raw, source=path) if path.suffix.lower() == ".toml" else loads_json(raw, source=path)
    except InputFileError as exc:
        raise EmulatorRuleError(str(exc)) from None
    if isinstance(data, list):
        data = {"rules": data}
    if not isinstance(data, dict):
        raise EmulatorRuleError(f"{path}: expected a list of rules or an object with 'rules'")
    options = {k: v for k, v in data.items() if k != "rules"}
    for key in options:
        if key != "context_window":
            raise EmulatorRuleError(f"{path}: unknown top-level key {key!r} (allowed: rules, context_window)")
    rules = data.get("rules")
    if not isinstance(rules, list):
        raise EmulatorRuleError(f"{path}: 'rules' must be a list ([[rules]] tables in TOML)")
    return [Rule.from_dict(r, f"{path}: rules[{i}]") for i, r in enumerate(rules)], options
