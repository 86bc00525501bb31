"""Deterministic answers for tests and offline demos: rules matched on model and prompt."""

from __future__ import annotations

import base64
import json
import string
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tierwise.errors import InvalidArgumentError
from tierwise.inputs import check_path, named_arguments

from . import tokens
from .backend import BackendError, GenerateRequest, Generation
from .rules import EmulatorRuleError, Rule, load_rules

DEFAULT_CONTEXT_WINDOW = 1_048_576  # Gemini flash-class input limit


class ScriptedBackend:
    """Answers from a list of :class:`Rule` (first match wins); unmatched prompts are a 400.

    Token counts come from :func:`tokens.count_tokens`, so they are stable across runs.
    ``maxOutputTokens`` covers thoughts and text together, as on Gemini 2.5+: a rule with many
    ``thoughts`` and a small limit yields a short or empty answer with ``MAX_TOKENS``.
    """

    @named_arguments
    def __init__(
        self, rules: Iterable[Rule | dict[str, Any]] = (), *, context_window: int = DEFAULT_CONTEXT_WINDOW
    ):
        if isinstance(rules, str | bytes | dict) or not isinstance(rules, Iterable):
            raise InvalidArgumentError(f"rules must be a list of Rule objects or rule dicts (a file: "
                                       f"ScriptedBackend.from_file), got {type(rules).__name__}")
        self.rules: list[Rule] = [Rule.from_dict(r, f"rules[{i}]") for i, r in enumerate(rules)]
        self.context_window = context_window
        self._hits: dict[int, int] = {}  # id(rule) -> times matched
        self._lock = threading.Lock()

    @classmethod
    @named_arguments
    def from_file(cls, path: str | Path) -> ScriptedBackend:
        """Load rules from a ``.toml`` or ``.json`` file (errors name the file and the key)."""
        rules, options = load_rules(check_path(path, "path"))
        window = options.get("context_window", DEFAULT_CONTEXT_WINDOW)
        if not isinstance(window, int) or window <= 0:
            raise EmulatorRuleError(f"{path}: context_window must be a positive integer")
        return cls(rules, context_window=window)

    @classmethod
    def demo(cls, extra_rules: Iterable[Rule | dict[str, Any]] = ()) -> ScriptedBackend:
        """The offline demo's canned answers (tierwise/emulator/demo.toml), after `extra_rules` — e.g. your own
        stages' `Stage.demo_rules()`, which match first."""
        from importlib import resources

        with resources.as_file(resources.files("tierwise.emulator").joinpath("demo.toml")) as path:
            base = cls.from_file(path)
        extra = [r if isinstance(r, Rule) else Rule.from_dict(r, f"extra_rules[{i}]")
                 for i, r in enumerate(extra_rules)]
        return cls([*extra, *base.rules], context_window=base.context_window)

    def models(self) -> list[str]:
        """Model ids named literally (no glob) by some rule."""
        return sorted({r.model for r in self.rules if not any(c in r.model for c in "*?[")})

    def count_tokens(self, request: GenerateRequest) -> int:
        """System, turns and tool results, plus declared functions (Gemini bills those as prompt too)."""
        declared = tokens.count_tokens(json.dumps(request.tools)) if request.tools else 0
        return tokens.count_tokens(request.system) + sum(tokens.count_tokens(t) for _, t in request.messages) + declared

    def generate(self, request: GenerateRequest) -> Generation:
        rule, variables = self._match(request)
        if rule.delay_ms:
            time.sleep(rule.delay_ms / 1000)
        if rule.error is not None:
            err: dict[str, Any] = rule.error if isinstance(rule.error, dict) else {"code": rule.error}
            message = err.get("message") or f"Scripted error {err['code']} for model '{request.model}'."
            raise BackendError(err["code"], message, err.get("status"))
        prompt = self.count_tokens(request)
        if rule.blocked:
            return Generation("", prompt, 0, finish_reason="", block_reason=rule.blocked, served_tier=rule.served_tier)
        text = _render(rule.reply, variables)
        text, continuation = _hop(text, rule.hops, request.continuation_token)
        calls = _calls(rule, variables, request)
        thoughts = rule.thoughts
        if request.thinking_budget is not None and request.thinking_budget >= 0:
            thoughts = min(thoughts, request.thinking_budget)
        finish = "STOP"
        if request.max_output_tokens is not None:
            thoughts = min(thoughts, request.max_output_tokens)
            cut = tokens.truncate(text, request.max_output_tokens - thoughts)
            if cut != text:
                text, finish = cut, "MAX_TOKENS"
        return Generation(
            text=text,
            prompt_tokens=prompt,
            output_tokens=tokens.count_tokens(text) + sum(tokens.count_tokens(json.dumps(c)) for c in calls),
            thoughts_tokens=thoughts,
            finish_reason="CONTINUATION" if continuation else rule.finish_reason or finish,
            cached_tokens=min(rule.cached_tokens, prompt),
            tool_calls=calls,
            served_tier=rule.served_tier,
            search_queries=list(rule.searches or ()) if request.google_search else [],
            continuation_token=continuation,
        )

    def _match(self, request: GenerateRequest) -> tuple[Rule, dict[str, str]]:
        user, tool = request.user, request.tool
        with self._lock:
            for rule in self.rules:
                if rule.times is not None and self._hits.get(id(rule), 0) >= rule.times:
                    continue
                variables = rule.match(request.model, request.system, user, tool)
                if variables is not None:
                    self._hits[id(rule)] = self._hits.get(id(rule), 0) + 1
                    return rule, variables
        raise BackendError(
            400,
            f"ScriptedBackend: no rule matches model '{request.model}' "
            f"(system: {_start(request.system)!r}, user: {_start(user)!r}).",
        )


def _start(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fill(value: Any, variables: dict[str, str]) -> Any:
    """``$name`` templates filled in every string, however deeply nested."""
    if isinstance(value, str):
        return string.Template(value).safe_substitute(variables)
    if isinstance(value, dict):
        return {k: _fill(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, variables) for v in value]
    return value


def _render(reply: Any, variables: dict[str, str]) -> str:
    """Reply text: templates filled; dicts and lists serialised as JSON."""
    filled = _fill(reply, variables)
    return filled if isinstance(filled, str) else json.dumps(filled, ensure_ascii=False)


def _calls(rule: Rule, variables: dict[str, str], request: GenerateRequest) -> list[dict[str, Any]]:
    """The rule's function calls, templated; each must name a function the request lets the model call."""
    if not rule.tool_calls:
        return []
    allowed = request.function_names
    for call in rule.tool_calls:
        if call["name"] not in allowed:
            raise BackendError(
                400,
                f"ScriptedBackend: rule calls function {call['name']!r} but the request does not offer it "
                f"(callable now: {allowed or 'none'}); bind the tool or fix the rule.",
            )
    return [{"name": c["name"], "args": _fill(c.get("args") or {}, variables)} for c in rule.tool_calls]


def _hop(text: str, hops: int, token: str | None) -> tuple[str, str | None]:
    """The part of `text` this request answers when a rule spreads it over `hops` requests, and the
    continuationToken for the next one (None: the last part)."""
    if hops <= 1:
        return text, None
    index = 0
    if token:
        try:
            index = int(base64.b64decode(token).decode().removeprefix("tierwise-hop:"))
        except (ValueError, UnicodeDecodeError):
            raise BackendError(400, "Invalid value at 'continuation_token' (TYPE_BYTES).") from None
    pieces = tokens.split(text, max(1, -(-tokens.count_tokens(text) // hops)))
    pieces += [""] * (hops - len(pieces))
    last = index >= hops - 1
    part = "".join(pieces[index:]) if last else pieces[index]
    return part, None if last else base64.b64encode(f"tierwise-hop:{index + 1}".encode()).decode()
