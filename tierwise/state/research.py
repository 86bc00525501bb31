"""The research graph's state, the documents a search tool returns, and the claims extracted from them."""

from __future__ import annotations

import operator
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .pipeline import PipelineOutput
from .state import InputState


class Document(BaseModel):
    """One search result. `id` is what answers cite, so it must be stable and unique within a corpus."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    text: str
    source: str = Field(default="", description="Where it came from: a path or a URL.")


# Bounds advertised in the JSON schema, not validated: constrained decoding (Gemini's, llama.cpp's grammar) keeps
# to them, and a model that ignores them still gives usable output (the nodes trim it).
Query = Annotated[str, Field(json_schema_extra={"maxLength": 100})]
Sentence = Annotated[str, Field(json_schema_extra={"maxLength": 300})]


class Queries(BaseModel):
    queries: list[Query] = Field(description="1 to 3 short keyword search queries.",
                                 json_schema_extra={"maxItems": 3})


class ExtractedClaims(BaseModel):
    claims: list[Sentence] = Field(description="Up to 5 key factual claims of the document, one sentence each.",
                                   json_schema_extra={"maxItems": 5})


class Claim(BaseModel):
    """A claim and every document that makes it (several, once duplicates are merged)."""

    model_config = ConfigDict(frozen=True)

    text: str
    sources: list[str]


class Citation(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    source: str


class ResearchOutput(PipelineOutput, total=False):
    queries: list[str]
    documents: list[Document]
    claims: list[Claim]
    """Deduplicated: what the synthesis read."""
    citations: list[Citation]
    """The documents the answer cites, each one a retrieved document."""
    unknown_citations: list[str]
    """Ids the answer cited that were not among the retrieved documents; removed from the answer."""


class ResearchState(InputState, ResearchOutput, total=False):
    raw_claims: Annotated[list[Claim], operator.add]
    """The claims node's output: raw claims, one batch per document (it runs once per document, in parallel);
    dedupe merges them into `claims`. (Called `extracted` before: a checkpoint of a run stopped between claims
    and dedupe under that name does not resume; finished threads go on as usual.)"""


class ClaimsTask(InputState, total=False):
    """What one run of the claims node gets (a LangGraph Send): its document and the request's labels."""

    document: Document
    route: str
    failure: dict[str, str] | None
