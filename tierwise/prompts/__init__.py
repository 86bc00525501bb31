"""One prompt template per node, as text files: the system part, a line `---user---`, the user part.

Placeholders use `$name` (string.Template) so that JSON braces in prompts need no escaping.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template

SEPARATOR = "---user---"

__all__ = ["SEPARATOR", "exists", "load", "parse", "render"]


@cache
def load(name: str) -> tuple[Template, Template]:
    text = resources.files(__name__).joinpath(f"{name}.md").read_text(encoding="utf-8")
    return parse(text, f"prompt {name}.md")


def parse(text: str, where: str) -> tuple[Template, Template]:
    """A template's text → its (system, user) parts."""
    system, sep, user = text.partition(SEPARATOR)
    if not sep:
        raise ValueError(f"{where} lacks the {SEPARATOR!r} line")
    return Template(system.strip()), Template(user.strip())


def exists(name: str) -> bool:
    """Whether tierwise ships a prompt called `name`."""
    return resources.files(__name__).joinpath(f"{name}.md").is_file()


def render(name: str, **values: object) -> list[tuple[str, str]]:
    """[("system", ...), ("user", ...)] with the values filled in."""
    system, user = load(name)
    return [("system", system.substitute(values)), ("user", user.substitute(values))]
