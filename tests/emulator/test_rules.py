"""ScriptedBackend and the rule format, without HTTP."""

from __future__ import annotations

import json

import pytest

from tierwise.emulator import BackendError, EmulatorRuleError, GenerateRequest, Rule, ScriptedBackend


def ask(backend, user="hello", *, model="gemini-2.5-flash", system="", **kwargs):
    return backend.generate(GenerateRequest(model=model, system=system, messages=[("user", user)], **kwargs))


def test_first_matching_rule_wins_with_model_glob_and_regexes():
    backend = ScriptedBackend(
        [
            {"model": "gemini-*-pro", "reply": "pro"},
            {"system": "judge", "user": "draft", "reply": "judged"},
            {"user": "draft", "reply": "any draft"},
            {"reply": "fallback"},
        ]
    )
    assert ask(backend, model="gemini-2.5-pro", user="draft").text == "pro"
    assert ask(backend, system="You judge.", user="a draft").text == "judged"
    assert ask(backend, system="You write.", user="a draft").text == "any draft"
    assert ask(backend, user="other").text == "fallback"


def test_user_pattern_searches_user_turns_only():
    backend = ScriptedBackend([Rule(user="secret", reply="found"), Rule(reply="not found")])
    request = GenerateRequest(model="m", messages=[("user", "hi"), ("model", "secret"), ("user", "again")])
    assert backend.generate(request).text == "not found"


def test_dict_reply_is_json_and_templates_fill_named_groups():
    backend = ScriptedBackend(
        [Rule(user=r"ticket #(?P<id>\d+)", reply={"id": "$id", "model": "${model}", "tags": ["t-$id"]})]
    )
    generation = ask(backend, user="about ticket #42", model="gemini-x")
    assert json.loads(generation.text) == {"id": "42", "model": "gemini-x", "tags": ["t-42"]}


def test_times_limits_a_rule_so_the_next_one_takes_over():
    backend = ScriptedBackend([Rule(reply="first", times=2), Rule(reply="later")])
    assert [ask(backend).text for _ in range(4)] == ["first", "first", "later", "later"]


def test_token_counts_are_deterministic():
    backend = ScriptedBackend([Rule(reply="Hi, you!")])
    generation = ask(backend, user="Hello, world.", system="Be nice")
    assert (generation.prompt_tokens, generation.output_tokens) == (6, 4)


def test_thinking_budget_caps_thoughts_and_max_tokens_cuts_text():
    backend = ScriptedBackend([Rule(reply="a b c d e f g h", thoughts=10)])
    assert ask(backend, thinking_budget=3).thoughts_tokens == 3
    assert ask(backend, thinking_budget=0).thoughts_tokens == 0
    assert ask(backend, thinking_budget=-1).thoughts_tokens == 10
    cut = ask(backend, max_output_tokens=13)
    assert (cut.text, cut.thoughts_tokens, cut.finish_reason) == ("a b c", 10, "MAX_TOKENS")
    starved = ask(backend, max_output_tokens=4)
    assert (starved.text, starved.thoughts_tokens, starved.output_tokens) == ("", 4, 0)


def test_finish_reason_override_and_errors():
    backend = ScriptedBackend(
        [
            Rule(user="unsafe", reply="", finish_reason="SAFETY"),
            Rule(user="slow", error={"code": 429, "message": "Quota exceeded."}),
        ]
    )
    assert ask(backend, user="unsafe").finish_reason == "SAFETY"
    with pytest.raises(BackendError) as info:
        ask(backend, user="slow")
    assert (info.value.code, info.value.status, info.value.message) == (
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded.",
    )


def test_no_match_is_400_naming_model_and_prompt():
    backend = ScriptedBackend([Rule(model="other", reply="x")])
    with pytest.raises(BackendError) as info:
        ask(backend, user="Please classify this very important ticket", system="You triage.")
    assert info.value.code == 400
    assert "'gemini-2.5-flash'" in info.value.message
    assert "You triage." in info.value.message and "Please classify" in info.value.message


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        ({"repy": "x"}, "unknown key 'repy'"),
        ({"user": "(unclosed"}, "user: invalid regex"),
        ({"thoughts": -1}, "thoughts"),
        ({"reply": 3}, "reply"),
        ({"error": 200}, "error"),
        ({"times": 0}, "times"),
    ],
)
def test_bad_rules_name_the_key(rule, needle):
    with pytest.raises(EmulatorRuleError, match=needle):
        ScriptedBackend([rule])


def test_from_toml_file(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        """
context_window = 5000

[[rules]]
model = "gemini-*-lite"
system = "triage"
reply = { label = "bug", confidence = 2 }
thoughts = 3

[[rules]]
reply = "plain"
""",
        encoding="utf-8",
    )
    backend = ScriptedBackend.from_file(path)
    assert backend.context_window == 5000
    generation = ask(backend, model="gemini-3.5-flash-lite", system="Do triage.")
    assert json.loads(generation.text) == {"label": "bug", "confidence": 2}
    assert generation.thoughts_tokens == 3
    assert ask(backend).text == "plain"


def test_from_json_file_list_or_object(tmp_path):
    as_list = tmp_path / "list.json"
    as_list.write_text(json.dumps([{"reply": "a"}]), encoding="utf-8")
    as_object = tmp_path / "object.json"
    as_object.write_text(json.dumps({"rules": [{"reply": "b"}]}), encoding="utf-8")
    assert ask(ScriptedBackend.from_file(as_list)).text == "a"
    assert ask(ScriptedBackend.from_file(as_object)).text == "b"


def test_file_errors_name_file_rule_and_key(tmp_path):
    bad_key = tmp_path / "bad.toml"
    bad_key.write_text('[[rules]]\nreply = "ok"\n\n[[rules]]\nusr = "x"\n', encoding="utf-8")
    with pytest.raises(EmulatorRuleError, match=r"bad\.toml: rules\[1\]: unknown key 'usr'"):
        ScriptedBackend.from_file(bad_key)

    bad_regex = tmp_path / "regex.json"
    bad_regex.write_text(json.dumps([{"system": "["}]), encoding="utf-8")
    with pytest.raises(EmulatorRuleError, match=r"regex\.json: rules\[0\]\.system: invalid regex"):
        ScriptedBackend.from_file(bad_regex)

    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(EmulatorRuleError, match=r"broken\.json: not JSON"):
        ScriptedBackend.from_file(broken)

    top = tmp_path / "top.toml"
    top.write_text('colour = "red"\n', encoding="utf-8")
    with pytest.raises(EmulatorRuleError, match="unknown top-level key 'colour'"):
        ScriptedBackend.from_file(top)

    with pytest.raises(EmulatorRuleError, match="missing.toml: no such rule file"):
        ScriptedBackend.from_file(tmp_path / "missing.toml")
