"""Add a stage to a tierwise pipeline: its registry entry, its declaration, and one wiring line.

The stage here, `summarize`, runs after Pro's reasoning and gives the request's final answer: a two-sentence
summary of it, on the cheapest tier. Everything else derives from the declaration: the graph node, what an
eval sends it (`run_eval(..., declarations=[SUMMARIZE])`) and the scripted demo's answer.

Runs offline on the scripted demo backend (chosen by name: tierwise never picks a stand-in by itself). With
GOOGLE_API_KEY set, drop `backend="scripted"` to run it on Gemini.

    python examples/add_a_stage.py
"""

from __future__ import annotations

from pathlib import Path

from langgraph.graph import END, START, StateGraph

import tierwise
from tierwise import Context, Stage
from tierwise.nodes import reason, respond
from tierwise.state import InputState, OutputState, State

# 1. The registry entry: which tier the stage runs on, and its settings (a TOML file works the same way).
REGISTRY = tierwise.build_registry(overrides={"stages": {"summarize": {
    "description": "Two-sentence summary of the final answer: cheap, and not what decides the answer.",
    "tier": "lite", "max_output_tokens": 256}}})

# 2. The declaration: name, prompt, what it reads (input and the best answer so far), and that it answers.
SUMMARIZE = Stage("summarize", prompt=str(Path(__file__).with_name("prompts") / "summarize.md"),
                  reads=("input", "answer"), answers=True,
                  demo="Refund the duplicate charge today and tell the customer. Check the card processor log so "
                       "it does not happen again.")


def build_graph(runtime: tierwise.Runtime):
    builder = StateGraph(State, context_schema=Context, input_schema=InputState, output_schema=OutputState)
    builder.add_node("reason", reason.node)
    builder.add_node(SUMMARIZE.name, SUMMARIZE.node())  # 3. the one wiring line (and its edges below)
    builder.add_node("respond", respond.node)
    builder.add_edge(START, "reason")
    builder.add_edge("reason", SUMMARIZE.name)
    builder.add_edge(SUMMARIZE.name, "respond")
    builder.add_edge("respond", END)
    return tierwise.bind_runtime(builder.compile(), runtime)  # its nodes' calls use this runtime


def main() -> dict:
    with tierwise.Runtime(registry=REGISTRY, backend="scripted", stages=[SUMMARIZE]) as rt:
        out = build_graph(rt).invoke({"input": "A customer was charged twice for order 1182. What do we do?"})
    print("answer:", out["answer"])
    for call in out["calls"]:
        print(f"  {call.stage:<10} {call.tier:<5} {call.model:<24} ${call.cost_usd:.6f}")
    print(f"total ${out['total_cost_usd']:.6f}")
    return out


if __name__ == "__main__":
    main()
