"""A two-step tool loop the emulator's rules script: the tools and the rules, shared by the function-calling tests."""

from __future__ import annotations

from langchain_core.tools import tool

from tierwise.emulator import Rule


@tool
def search(q: str) -> str:
    """Search the web."""
    return f"It is sunny in {q}."


@tool
def convert(celsius: float) -> str:
    """Celsius to Fahrenheit."""
    return f"{celsius * 9 / 5 + 32:g}F"


# Most advanced step first: each rule matches once its input is in the conversation.
LOOP = [
    Rule(tool=r"convert: (?P<f>\S+)", reply="Sunny, about $f."),
    Rule(tool=r"search: It is sunny", tool_calls=[{"name": "convert", "args": {"celsius": 21}}]),
    Rule(user=r"weather in (?P<city>[A-Za-z]+)", reply="Let me look.",
         tool_calls=[{"name": "search", "args": {"q": "$city"}}]),
]
