"""The content graph end to end through the real Gemini client: draft on Lite, format on Flash, finalize on Pro."""

from __future__ import annotations

import asyncio

from graph_rules import DRAFT, FINALIZE, FORMAT, PLAN, assert_priced, content_rules, tiers

from tierwise import Context, build_content_graph

BRIEF = "Announce our new pricing page to customers."


def test_draft_format_finalize_on_their_tiers(scripted):
    emulator, context = scripted(content_rules(final="Meet the new pricing page: clearer plans, same prices."))
    result = build_content_graph().invoke({"input": BRIEF}, context=context)
    assert result["steps"] == ["draft", "plan", "finalize", "report"]
    assert tiers(result) == [("content_draft", "lite"), ("content_plan", "flash"), ("content_finalize", "pro")]
    assert result["answer"] == "Meet the new pricing page: clearer plans, same prices."
    assert result["route"] == "content" and result["plan"].model_dump() == PLAN
    assert_priced(result)
    draft, plan, final = emulator.requests
    assert plan.json_schema is not None and set(plan.json_schema["properties"]) >= {"title", "tags", "format"}
    assert plan.temperature is None  # format runs on gemini-3.8-flash, which ignores temperature: none is sent
    assert final.temperature == 1.0  # finalize on Pro honours it
    assert "format: blog_post" in final.user and "A rough draft about pricing." in final.user
    assert result["cost_by_stage"]["content_finalize"]["tiers"] == ["pro"]


def test_past_a_soft_cap_format_moves_to_lite_and_finalize_stays_on_pro(scripted, tmp_path):
    registry = tmp_path / "capped.toml"
    registry.write_text("[budget]\ndaily_usd = 0.000001\n")  # the first call's cost reaches it
    emulator, _ = scripted(content_rules())
    context = Context(base_url=emulator.base_url, registry_path=str(registry))
    result = build_content_graph().invoke({"input": BRIEF}, context=context)
    assert tiers(result) == [("content_draft", "lite"), ("content_plan", "lite"), ("content_finalize", "pro")]
    assert result["answer"] == "The final post."
    assert_priced(result, registry)


def test_an_unusable_plan_still_gets_a_final_text(scripted):
    emulator, context = scripted(content_rules(plan="not json at all"))
    result = build_content_graph().invoke({"input": BRIEF}, context=context)
    assert result["plan"] is None
    assert result["answer"] == "The final post."
    assert "choose a title, format and tone" in emulator.requests[-1].user
    assert result["calls"][-1].tier == "pro"


def test_a_failed_finalize_gives_no_answer_not_the_draft(scripted):
    _, context = scripted([{"system": DRAFT, "reply": "draft"}, {"system": FORMAT, "reply": PLAN},
                           {"system": FINALIZE, "error": 400}])
    result = build_content_graph().invoke({"input": BRIEF}, context=context)
    assert result["answer"] == ""
    assert result["failure"]["stage"] == "content_finalize"
    assert {c.tier for c in result["calls"] if c.stage == "content_finalize"} == {"pro"}  # never downgraded
    assert result["steps"][-1] == "report" and result["total_cost_usd"] > 0


def test_ainvoke(scripted):
    _, context = scripted(content_rules())
    result = asyncio.run(build_content_graph().ainvoke({"input": BRIEF}, context=context))
    assert result["steps"] == ["draft", "plan", "finalize", "report"] and result["answer"] == "The final post."
