"""Use tierwise stages in your own LangGraph graph.

Each node names a stage declared in `own_stages.toml`; `run_stage` resolves its model from the registry, calls
it (retries, fallbacks, spend caps), and returns the value with priced call records. The nodes hold no chat model.

Runs offline: a scripted Gemini emulator answers on 127.0.0.1. To use Gemini, set GOOGLE_API_KEY and drop
`base_url` from the Context.

    python examples/own_graph.py
"""

from __future__ import annotations

import asyncio
import operator
from pathlib import Path
from typing import Annotated, Literal

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from tierwise import CallRecord, Context, run_stage

REGISTRY = Path(__file__).with_name("own_stages.toml")


class Tags(BaseModel):
    topic: Literal["billing", "shipping", "account", "other"]
    urgent: bool = Field(description="Money lost, or the customer cannot work.")


class State(TypedDict, total=False):
    ticket: str
    tags: Tags | None
    reply: str
    calls: Annotated[list[CallRecord], operator.add]  # every model call, priced


async def classify(state: State) -> dict:
    result = await run_stage("classify", [("system", "Tag this support ticket."), ("user", state["ticket"])],
                             schema=Tags)
    return {"tags": result.value, "calls": result.records}  # value: a Tags, or None if the output was unusable


async def reply(state: State) -> dict:
    tags = state.get("tags")
    note = f"topic {tags.topic}, urgent {tags.urgent}" if tags else "untagged"
    result = await run_stage("reply", [("system", "Write a short, kind reply to this support ticket."),
                                       ("user", f"{state['ticket']}\n({note})")])
    return {"reply": result.value, "calls": result.records}


def build_graph():
    builder = StateGraph(State, context_schema=Context)  # run_stage reads the run's Context
    builder.add_node("classify", classify)
    builder.add_node("reply", reply)
    builder.add_edge(START, "classify")
    builder.add_edge("classify", "reply")
    builder.add_edge("reply", END)
    return builder.compile()


# What the scripted emulator answers, matched on each stage's system prompt.
RULES = [
    {"system": "Tag this", "reply": {"topic": "billing", "urgent": True}},
    {"system": "kind reply", "reply": "Sorry about the double charge: we have refunded it today.", "thoughts": 40},
]


async def main() -> None:
    from tierwise.emulator import Emulator, ScriptedBackend

    with Emulator(ScriptedBackend(RULES)) as emulator:
        context = Context(base_url=emulator.base_url, registry_path=str(REGISTRY))
        out = await build_graph().ainvoke({"ticket": "I was charged twice for my order!"}, context=context)

        # Outside a graph, a plain async function passes the context itself:
        again = await run_stage("classify", [("system", "Tag this support ticket."), ("user", "Parcel lost.")],
                                schema=Tags, context=context)

    print("reply:", out["reply"])
    print("tags:", out["tags"].model_dump())
    for call in out["calls"] + again.records:
        print(f"  {call.stage:<9} {call.tier:<5} {call.model:<24} {call.input_tokens:>4} in {call.output_tokens:>4} out"
              f"  ${call.cost_usd:.6f}")
    total = sum(c.cost_usd for c in out["calls"])
    print(f"graph total ${total:.6f}; the same calls all on Pro ${sum(c.all_pro_cost_usd for c in out['calls']):.6f}")


if __name__ == "__main__":
    asyncio.run(main())
