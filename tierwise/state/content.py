"""The content graph's state and the plan its plan stage (`content_plan`) returns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .pipeline import PipelineOutput
from .state import InputState


class ContentPlan(BaseModel):
    """Classification, tags and format of a draft: enums and short strings, so Flash fills it at temperature 0."""

    title: str = Field(description="A short, specific title.")
    category: Literal["announcement", "how-to", "explainer", "opinion", "news", "marketing", "other"]
    tags: list[str] = Field(description="3 to 6 lowercase topic tags.")
    format: Literal["blog_post", "email", "social_post", "press_release", "doc_page"] = Field(
        description="The format the final text should take.")
    tone: Literal["neutral", "friendly", "formal", "enthusiastic"]


class ContentOutput(PipelineOutput, total=False):
    draft: str
    plan: ContentPlan | None
    """None when the plan stage's output was unusable: finalize then chooses title and format itself."""


class ContentState(InputState, ContentOutput, total=False):
    """Everything the content nodes share: the request, and what each stage added."""
