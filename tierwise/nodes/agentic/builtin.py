"""The tools the agentic graph offers by default; both work offline. Pass your own to `build_agentic_graph`."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

from langchain_core.tools import BaseTool, tool

from tierwise.search import SearchTool, default_search

_OPERATORS: dict[type[ast.AST], Callable[..., float | int]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.USub: operator.neg, ast.UAdd: operator.pos,
}
MAX_EXPONENT = 100  # 9**9**9 would hang the process


def evaluate(expression: str) -> float | int:
    """Arithmetic only (numbers, + - * / // % **, parentheses): no names, no calls, no eval."""

    def walk(node: ast.AST) -> float | int:
        if isinstance(node, ast.Constant) and (type(node.value) is int or type(node.value) is float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
                raise ValueError(f"exponent {right} is too large")
            return _OPERATORS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.operand))
        raise ValueError(f"not arithmetic: {ast.unparse(node)!r}")

    return walk(ast.parse(expression.strip(), mode="eval").body)


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression, e.g. '(1200 * 0.25 + 300 * 1.5) / 1e6'."""
    value = evaluate(expression)
    # "expression = value", not a bare number: the model sees what was computed, and the client does not
    # turn the text into a JSON number on the way.
    return f"{expression.strip()} = {value:.10g}" if isinstance(value, float) else f"{expression.strip()} = {value}"


def document_search(search: SearchTool, *, k: int = 3, chars: int = 600) -> BaseTool:
    """A tool the model calls with a query; it gets the best documents' ids, titles and opening text."""

    @tool
    def search_documents(query: str) -> str:
        """Search the local documents for a keyword query; returns the best matches with their ids."""
        found = search.search(query, k)
        if not found:
            return "no documents match"
        return "\n\n".join(f"[{d.id}] {d.title}\n{d.text[:chars]}" for d in found)

    return search_documents


def default_tools(search: SearchTool | None = None) -> list[BaseTool]:
    return [calculator, document_search(search or default_search())]
