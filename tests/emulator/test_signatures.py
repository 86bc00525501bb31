"""Gemini 3's thought-signature rule: a function call of the current turn must come back with its signature.

Google (ai.google.dev/gemini-api/docs/thought-signatures): the current turn starts at the latest user content
with standard content (not a functionResponse); the first functionCall part of each model step after it must
carry the thoughtSignature it came with (parallel calls: only the first part has one), else 400
INVALID_ARGUMENT. Earlier turns are not checked; Gemini 2.5 and Gemini 3 Pro Image do not check; the dummy
signatures Google documents for history from elsewhere pass.
"""

from __future__ import annotations

import base64
import http.client
import json

import pytest
from emulator_models import KEY, TEST_MODELS
from langchain_core.messages import HumanMessage, ToolMessage
from tool_loop import LOOP, convert, search

from tierwise.emulator import Emulator, ModelLimits, Rule, ScriptedBackend, build_catalogue, wire

FLASH = "gemini-3.8-flash"
DUMMIES = ("skip_thought_signature_validator", "context_engineering_is_the_way_to_go")
SIGNED = base64.b64encode(b"a real signature, as Gemini sent it").decode()
MISSING = ("Function call is missing a thought_signature in functionCall parts. This is required for tools to work "
           "correctly, and missing thought_signature may lead to degraded model performance. Additional data, "
           "function call `default_api:{name}` , position {position}. Please refer to "
           "https://ai.google.dev/gemini-api/docs/thought-signatures for more details.")


def user(text):
    return {"role": "user", "parts": [{"text": text}]}


def calls(*names, signatures=()):
    """A model step calling `names` in parallel; `signatures[i]` goes on part i (None or missing: unsigned)."""
    parts = []
    for i, name in enumerate(names):
        part = {"functionCall": {"name": name, "args": {"q": "x"}}}
        if i < len(signatures) and signatures[i] is not None:
            part["thoughtSignature"] = signatures[i]
        parts.append(part)
    return {"role": "model", "parts": parts}


def results(*names):
    return {"role": "user", "parts": [{"functionResponse": {"name": n, "response": {"output": "ok"}}} for n in names]}


def model_text(text):
    return {"role": "model", "parts": [{"text": text}]}


TOOLS = [{"functionDeclarations": [{"name": n, "description": n} for n in ("search", "convert")]}]


@pytest.fixture
def emu():
    started = Emulator(ScriptedBackend([Rule(reply="ok")]), models=TEST_MODELS).start()
    yield started
    started.stop()


def _post(emu: Emulator, model: str, contents, *, path=None, method="generateContent"):
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    conn.request("POST", path or f"/v1beta/models/{model}:{method}",
                 body=json.dumps({"contents": contents, "tools": TOOLS}).encode(),
                 headers={"Content-Type": "application/json", **KEY})
    response = conn.getresponse()
    payload = json.loads(response.read())
    conn.close()
    return response.status, payload


def _genai(emu: Emulator):
    from google import genai
    from google.genai import types

    options = types.HttpOptions(base_url=emu.base_url, retry_options=types.HttpRetryOptions(attempts=1))
    return genai.Client(api_key="emulator", http_options=options)


def _genai_contents(contents):
    from google.genai import types

    return [types.Content.model_validate(c) for c in contents]


# ------------------------------------------------------------------------------------------ refused


def test_an_unsigned_call_in_the_current_turn_is_refused_through_google_genai(emu):
    from google.genai import errors

    contents = [user("weather in Paris?"), calls("search"), results("search")]
    client = _genai(emu)  # held: a client collected mid-call closes its connection
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=FLASH, contents=_genai_contents(contents))
    error = caught.value
    assert (error.code, error.status) == (400, "INVALID_ARGUMENT")
    assert error.message == MISSING.format(name="search", position=2)


def test_the_refusal_has_googles_error_shape(emu):
    status, payload = _post(emu, FLASH, [user("weather?"), calls("search"), results("search")])
    assert status == 400
    assert payload == {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                 "message": MISSING.format(name="search", position=2)}}


REFUSED = [
    ("second step unsigned",
     [user("q"), calls("search", signatures=[SIGNED]), results("search"), calls("convert"), results("convert")],
     "convert", 4),
    ("parallel calls, only the second signed",
     [user("q"), calls("search", "convert", signatures=[None, SIGNED]), results("search", "convert")], "search", 2),
    ("an unsigned call the model just made, no result yet", [user("q"), calls("search")], "search", 2),
    ("a signature on the text part only",
     [user("q"), {"role": "model", "parts": [{"text": "Let me look.", "thoughtSignature": SIGNED},
                                             {"functionCall": {"name": "search", "args": {}}}]}, results("search")],
     "search", 2),
    ("empty signature", [user("q"), calls("search", signatures=[""]), results("search")], "search", 2),
    ("no user text at all: the whole history is the turn", [calls("search"), results("search")], "search", 1),
    ("the previous turn is fine, this one is not",
     [user("a"), calls("search", signatures=[SIGNED]), results("search"), model_text("done"),
      user("b"), calls("convert"), results("convert")], "convert", 6),
]


@pytest.mark.parametrize(("case", "contents", "name", "position"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused(emu, case, contents, name, position):
    status, payload = _post(emu, FLASH, contents)
    assert status == 400, payload
    assert payload["error"]["message"] == MISSING.format(name=name, position=position)


def test_streamed_and_vertex_calls_are_checked_too(emu):
    contents = [user("q"), calls("search"), results("search")]
    status, _ = _post(emu, FLASH, contents, method="streamGenerateContent")
    assert status == 400
    vertex = f"/v1beta1/projects/p/locations/us-central1/publishers/google/models/{FLASH}:generateContent"
    status, payload = _post(emu, FLASH, contents, path=vertex)
    assert status == 400 and payload["error"]["message"].startswith("Function call is missing a thought_signature")


# ------------------------------------------------------------------------------------------ accepted


ACCEPTED = [
    ("signed", [user("q"), calls("search", signatures=[SIGNED]), results("search")]),
    ("unsigned only in a previous turn",
     [user("a"), calls("search"), results("search"), model_text("It is sunny."), user("and tomorrow?")]),
    ("unsigned in a previous turn, signed in this one",
     [user("a"), calls("search"), results("search"), model_text("sunny"),
      user("b"), calls("convert", signatures=[SIGNED]), results("convert")]),
    ("parallel calls, only the first signed",
     [user("q"), calls("search", "convert", signatures=[SIGNED]), results("search", "convert")]),
    ("two signed steps",
     [user("q"), calls("search", signatures=[SIGNED]), results("search"),
      calls("convert", signatures=[SIGNED]), results("convert")]),
    ("text before the signed call",
     [user("q"), {"role": "model", "parts": [{"text": "Let me look."},
                                             {"functionCall": {"name": "search", "args": {}},
                                              "thoughtSignature": SIGNED}]}, results("search")]),
    *[(f"dummy {d}", [user("q"), calls("search", signatures=[d]), results("search")]) for d in DUMMIES],
]


@pytest.mark.parametrize(("case", "contents"), ACCEPTED, ids=[r[0] for r in ACCEPTED])
def test_accepted(emu, case, contents):
    status, payload = _post(emu, FLASH, contents)
    assert status == 200, payload


@pytest.mark.parametrize("dummy", DUMMIES)
def test_googles_dummy_signatures_pass_through_google_genai(emu, dummy):
    from google.genai import types

    contents = _genai_contents([user("q"), calls("search"), results("search")])
    contents[1].parts[0].thought_signature = base64.urlsafe_b64decode(dummy)  # bytes on the wire, as base64
    client = _genai(emu)
    answer = client.models.generate_content(model=FLASH, contents=contents,
                                            config=types.GenerateContentConfig(tools=TOOLS))
    assert answer.text == "ok"
    assert base64.urlsafe_b64decode(emu.requests[-1].call_signatures[0]) == base64.urlsafe_b64decode(dummy)


def test_models_that_do_not_check(emu):
    """Gemini 2.5 does not check; a Gemini 3 entry marked `function_call_signatures = false` (3 Pro Image)
    neither; a lenient emulator checks nothing."""
    unsigned = [user("q"), calls("search"), results("search")]
    assert _post(emu, "gemini-2.5-flash", unsigned)[0] == 200
    image = Emulator(ScriptedBackend([Rule(reply="ok")]), models={"gemini-3-pro-image-preview": ModelLimits(
        "gemini-3-pro-image-preview", thinking_levels=("low", "high"), function_call_signatures=False)}).start()
    lenient = Emulator(ScriptedBackend([Rule(reply="ok")]), strict=False).start()
    try:
        assert _post(image, "gemini-3-pro-image-preview", unsigned)[0] == 200
        assert _post(lenient, FLASH, unsigned)[0] == 200
    finally:
        image.stop()
        lenient.stop()


def test_the_fact_comes_from_the_registry_catalogue():
    catalogue = build_catalogue(TEST_MODELS)
    assert all(catalogue[m].enforces_function_call_signatures for m in
               ("gemini-3.5-flash-lite", FLASH, "gemini-3.5-flash", "gemini-3.1-pro-preview", "gemini-3.1-flash-lite"))
    assert not catalogue["gemini-2.5-flash"].enforces_function_call_signatures
    from tierwise.tiers import ModelSpec

    spec = ModelSpec(tier="pro", context_window=65_536, thinking_levels=["low", "high"],
                     default_thinking_level="high", function_call_signatures=False)
    assert not spec.enforces_function_call_signatures
    assert not build_catalogue({"x": {"thinking_levels": ["low"], "function_call_signatures": False}},
                               registry=False)["x"].enforces_function_call_signatures


# ------------------------------------------------------------------------------------------ the emulator's answers


def _parts(answer):
    return answer["candidates"][0]["content"]["parts"]


def test_the_emulator_signs_the_first_function_call_part():
    rule = Rule(reply="Let me look.", tool_calls=[{"name": "search", "args": {"q": "x"}},
                                                  {"name": "convert", "args": {"q": "y"}}])
    emu = Emulator(ScriptedBackend([rule]), tokens_per_chunk=1).start()
    try:
        status, answer = _post(emu, FLASH, [user("q")])
        assert status == 200
        text, first, second = _parts(answer)
        assert "thoughtSignature" not in text and "thoughtSignature" not in second
        assert first["functionCall"]["name"] == "search" and first["thoughtSignature"]
        status, chunks = _post(emu, FLASH, [user("q")], method="streamGenerateContent")
        signed = [p for chunk in chunks for p in _parts(chunk) if "thoughtSignature" in p]
        assert len(chunks) > 2 and [p["functionCall"]["name"] for p in signed] == ["search"]
    finally:
        emu.stop()


def issued_by_the_emulator(signature) -> bool:
    """The emulator's signatures are a digest twice over: a lost one (None) or a client's dummy is not."""
    if not signature:
        return False
    raw = base64.urlsafe_b64decode(signature.replace("+", "-").replace("/", "_"))
    return len(raw) == 64 and raw[:32] == raw[32:]


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
def test_langchain_sends_the_real_signatures_back(stream):
    """ChatGoogleGenerativeAI keeps each call's signature in the AIMessage and sends it back: the emulator gets
    its own signatures, not the skip-validator dummy LangChain puts in when one is missing."""
    from langchain_google_genai import ChatGoogleGenerativeAI

    emu = Emulator(ScriptedBackend(LOOP), tokens_per_chunk=1).start()
    try:
        llm = ChatGoogleGenerativeAI(model=FLASH, google_api_key="emulator", base_url=emu.base_url,
                                     max_retries=1).bind_tools([search, convert])
        messages = [HumanMessage("What is the weather in Paris?")]
        for _ in range(3):
            if stream:
                chunks = list(llm.stream(messages))
                reply = chunks[0]
                for chunk in chunks[1:]:
                    reply = reply + chunk
            else:
                reply = llm.invoke(messages)
            messages.append(reply)
            if not reply.tool_calls:
                break
            for call in reply.tool_calls:
                tools = {"search": search, "convert": convert}
                messages.append(ToolMessage(tools[call["name"]].invoke(call["args"]), tool_call_id=call["id"]))
        assert messages[-1].text == "Sunny, about 69.8F."
        first, second, third = emu.requests
        assert first.call_signatures == []
        assert len(second.call_signatures) == 1 and issued_by_the_emulator(second.call_signatures[0])
        assert third.call_signatures[0] == second.call_signatures[0]
        assert len(third.call_signatures) == 2 and issued_by_the_emulator(third.call_signatures[1])
    finally:
        emu.stop()


def test_signature_helper_matches_the_emulators_own():
    assert issued_by_the_emulator(wire.thought_signature("abc"))
    assert not any(issued_by_the_emulator(d) for d in DUMMIES)
