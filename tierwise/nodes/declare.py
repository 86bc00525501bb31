"""A stage declared once: its name, prompt, output schema, the state it reads and writes, and whether it gives the
request's answer. Its graph node, what an eval sends it and the scripted demo's answer all derive from this.

    summarize = Stage("summarize", prompt="summarize.md", reads=("answer",), answers=True,
                      demo="In short: refund the duplicate charge today.")
    builder.add_node(summarize.name, summarize.node())          # the one wiring line (plus its edges)

with its registry entry (`[stages.summarize] tier = "lite"`). `reads` names state keys, and "answer" — the best
answer so far (an answering stage's, else Pro's polish or reasoning, else the draft). A stage's output goes to
`writes` if given (a key of the graph's state), else to `outputs[name]`; an answering stage's text becomes the
answer `respond` returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from langchain_core.runnables import Runnable

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.errors import InvalidArgumentError
from tierwise.prompts import exists, parse

from .base import StageCall, Update, stage_node

ANSWER = "answer"  # the key a stage reads to get the best answer so far


def best_answer(state: Mapping[str, Any]) -> str:
    """The request's answer so far: an answering stage's, else Pro's polish or reasoning, else the draft."""
    return str(state.get("final") or state.get("polished") or state.get("reasoned") or state.get("draft") or "")


@dataclass(frozen=True)
class Stage:
    """See the module docstring. `render`: build the messages yourself from the state (for a prompt that changes
    with it); `text_field`: with a schema, the field holding the text an answering stage gives."""

    name: str
    prompt: str
    reads: tuple[str, ...] = ("input",)
    writes: str | None = None
    schema: type | None = None
    answers: bool = False
    text_field: str | None = None
    demo: Any = None
    render: Callable[[Mapping[str, Any]], list[tuple[str, str]]] | None = None
    _templates: tuple[Template, Template] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", self.name):
            raise InvalidArgumentError(f"Stage name must be a short identifier (letters, digits, _ or -), got "
                                       f"{self.name!r}")
        if isinstance(self.reads, str) or not all(isinstance(r, str) and r for r in self.reads):
            raise InvalidArgumentError(f"Stage {self.name!r}: reads must be a tuple of state keys, got "
                                       f"{self.reads!r}")
        if self.schema is not None and not (isinstance(self.schema, type) and hasattr(self.schema,
                                                                                    "model_json_schema")):
            raise InvalidArgumentError(f"Stage {self.name!r}: schema must be a pydantic model class")
        if self.answers and self.schema is not None and not self.text_field:
            raise InvalidArgumentError(f"Stage {self.name!r}: an answering stage with a schema names its "
                                       "text_field")
        object.__setattr__(self, "_templates", self._load())
        placeholders = {m.group(1) or m.group(2) for part in self._templates
                        for m in re.finditer(r"\$(?:(\w+)|\{(\w+)\})", part.template)}
        missing = sorted(placeholders - set(self.reads))
        if missing and self.render is None:
            raise InvalidArgumentError(f"Stage {self.name!r}: its prompt uses ${missing[0]}, which it does not read "
                                       f"(reads={self.reads!r})")

    def _load(self) -> tuple[Template, Template]:
        if not isinstance(self.prompt, str) or not self.prompt:
            raise InvalidArgumentError(f"Stage {self.name!r}: prompt must be a template name or a file path")
        if exists(self.prompt):
            from tierwise.prompts import load

            return load(self.prompt)
        path = Path(self.prompt)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidArgumentError(f"Stage {self.name!r}: prompt {self.prompt!r} is neither a tierwise prompt nor "
                                       f"a readable file ({exc.strerror or exc})") from None
        try:
            return parse(text, f"Stage {self.name!r}: prompt file {path}")
        except ValueError as exc:
            raise InvalidArgumentError(str(exc)) from None

    # -- what derives from the declaration ---------------------------------------------------------------------
    def values(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """The template's values from the state ("answer": the best answer so far)."""
        outputs = state.get("outputs") or {}
        values = {}
        for key in self.reads:
            value = best_answer(state) if key == ANSWER else state.get(key, outputs.get(key))
            values[key] = "" if value is None else value
        return values

    def messages(self, state: Mapping[str, Any]) -> list[tuple[str, str]]:
        """What this stage sends for `state`: a graph's node and an eval case alike."""
        if self.render is not None:
            return self.render(state)
        values = self.values(state)
        system, user = self._templates
        return [("system", system.substitute(values)), ("user", user.substitute(values))]

    def call(self, state: Mapping[str, Any]) -> StageCall:
        return StageCall(self.name, self.messages(state), self.schema)

    def update(self, value: Any) -> Update:
        """The state update for a result's value (None: the stage's output was unusable)."""
        out: dict[str, Any] = {self.writes: value} if self.writes else {"outputs": {self.name: value}}
        if self.answers and value is not None:
            text = getattr(value, self.text_field) if self.text_field else value
            out["final"] = str(text).strip()
        return out

    def node(self) -> Runnable[Any, Update]:
        """This stage as a LangGraph node (sync and async)."""

        def prepare(state: Mapping[str, Any], context: Context) -> StageCall:
            return self.call(state)

        def finish(state: Mapping[str, Any], result: StageResult, context: Context) -> Update:
            return self.update(result.value)

        return stage_node(self.name, prepare, finish)

    def demo_rules(self) -> list[dict[str, Any]]:
        """The scripted emulator's answer for this stage, matched on its system prompt's first line (empty when
        no `demo` is declared): `ScriptedBackend.demo(extra_rules=...)`."""
        if self.demo is None:
            return []
        first = self._templates[0].template.strip().splitlines()[0] if self._templates[0].template.strip() else ""
        rule: dict[str, Any] = {"reply": self.demo}
        if first and "$" not in first:
            rule["system"] = re.escape(first)
        return [rule]
