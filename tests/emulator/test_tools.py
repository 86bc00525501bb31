"""Function calling: bind_tools declarations in, functionCall parts out, functionResponse turns matched by rules."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from tool_loop import LOOP, convert, search

from tierwise.emulator import BackendError, EmulatorRuleError, Rule, ScriptedBackend, wire


def test_scripted_tool_loop_end_to_end(emulator, chat):
    emu = emulator(LOOP)
    llm = chat(emu, max_retries=1).bind_tools([search, convert])
    tools = {"search": search, "convert": convert}
    messages = [HumanMessage("What is the weather in Paris?")]

    for _ in range(3):
        reply = llm.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            messages.append(ToolMessage(tools[call["name"]].invoke(call["args"]), tool_call_id=call["id"]))

    first, second, final = (m for m in messages if m.type == "ai")
    assert first.text == "Let me look."
    assert [(c["name"], c["args"]) for c in first.tool_calls] == [("search", {"q": "Paris"})]
    assert [(c["name"], c["args"]) for c in second.tool_calls] == [("convert", {"celsius": 21})]
    assert final.text == "Sunny, about 69.8F." and not final.tool_calls
    assert first.usage_metadata["output_tokens"] > 0

    sent = emu.requests
    assert [d["name"] for d in sent[0].tools] == ["search", "convert"]
    assert sent[0].tools[0]["parameters"]["properties"]["q"]["type"] == "STRING"
    assert sent[2].messages == [
        ("user", "What is the weather in Paris?"),
        ("model", "Let me look."),
        ("tool", "search: It is sunny in Paris."),
        ("model", ""),  # a turn that was only a function call
        ("tool", "convert: 69.8F"),
    ]
    assert sent[2].tool == "search: It is sunny in Paris.\nconvert: 69.8F"
    assert sent[2].user == "What is the weather in Paris?"


def test_streamed_function_call_arrives_whole_on_the_last_chunk(emulator, chat):
    emu = emulator(LOOP, tokens_per_chunk=1)
    chunks = list(chat(emu, max_retries=1).bind_tools([search]).stream("weather in Rome"))
    assert len(chunks) >= 3
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.text == "Let me look."
    assert [(c["name"], c["args"]) for c in total.tool_calls] == [("search", {"q": "Rome"})]
    assert total.response_metadata["finish_reason"] == "STOP"


def test_tool_choice_reaches_the_request_and_limits_calls(emulator, chat):
    emu = emulator([Rule(tool_calls=[{"name": "search", "args": {"q": "x"}}])])
    llm = chat(emu, max_retries=1)
    llm.bind_tools([search, convert], tool_choice="search").invoke("go")
    assert emu.requests[0].tool_config["functionCallingConfig"]["mode"] == "ANY"
    assert emu.requests[0].function_names == ["search"]

    with pytest.raises(Exception, match=r"rule calls function 'search' but the request does not offer it"):
        llm.bind_tools([convert]).invoke("go")
    with pytest.raises(Exception, match=r"callable now: none"):
        llm.invoke("go")


def test_function_response_parts_parse_to_tool_messages():
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "q"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "f", "response": {"output": "plain"}}},
                {"functionResponse": {"name": "g", "response": {"rows": [1, 2]}}},
            ]},
        ],
        "tools": [{"functionDeclarations": [{"name": "f"}, {"name": "g"}]}, {"googleSearch": {}}],
        "toolConfig": {"functionCallingConfig": {"mode": "NONE"}},
    }
    request = wire.parse_request("m", body)
    assert request.messages == [("user", "q"), ("model", ""), ("tool", "f: plain"), ("tool", 'g: {"rows": [1, 2]}')]
    assert [d["name"] for d in request.tools] == ["f", "g"]
    assert request.function_names == []  # mode NONE


@pytest.mark.parametrize(
    "body",
    [
        {"contents": [{"parts": [{"text": "q"}]}], "tools": {"functionDeclarations": []}},
        {"contents": [{"parts": [{"text": "q"}]}], "tools": [{"functionDeclarations": [{"description": "x"}]}]},
        {"contents": [{"parts": [{"functionResponse": {"response": {}}}]}]},
        {"contents": [{"parts": [{"text": "q"}]}], "toolConfig": "ANY"},
    ],
)
def test_bad_tool_fields_are_400(body):
    with pytest.raises(BackendError) as info:
        wire.parse_request("m", body)
    assert info.value.code == 400


@pytest.mark.parametrize(
    "calls",
    [[], {"name": "f"}, [{"args": {}}], [{"name": "f", "args": "x"}], [{"name": "f", "arguments": {}}]],
)
def test_bad_tool_calls_in_rules_fail_loudly(calls):
    with pytest.raises(EmulatorRuleError, match="rules\\[0\\].tool_calls"):
        ScriptedBackend([{"tool_calls": calls}])


def test_bad_tool_pattern_names_the_key():
    with pytest.raises(EmulatorRuleError, match="tool: invalid regex"):
        Rule(tool="(")


def test_tool_rules_load_from_toml(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rules]]\ntool = "search: (?P<r>.+)"\nreply = "Found $r"\n'
        '[[rules]]\nuser = "weather"\ntool_calls = [{ name = "search", args = { q = "now" } }]\n'
    )
    first, second = ScriptedBackend.from_file(path).rules
    assert first.tool == "search: (?P<r>.+)"
    assert second.tool_calls == [{"name": "search", "args": {"q": "now"}}]
