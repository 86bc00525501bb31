"""The agentic graph's state: a message list the tool loop grows, and the router's decision."""

from __future__ import annotations

from typing import Annotated, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from pydantic import BaseModel, Field

from .pipeline import PipelineOutput
from .records import Confidence
from .state import InputState

Intent = Literal["tool_loop", "one_shot_analysis"]


class AgentRoute(BaseModel):
    """The router's call, enum-only so a Lite model can make it."""

    intent: Intent = Field(description="tool_loop: needs tools (look things up, compute, several steps); "
                           "one_shot_analysis: needs careful reasoning over what is given, no tools.")
    confidence: Confidence


class AgentOutput(PipelineOutput, total=False):
    intent: Intent
    tool_rounds: int
    """How many times the loop ran tools."""


class AgentState(InputState, AgentOutput, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
