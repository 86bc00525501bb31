"""The attempt loop driven by hand with scripted replies: no HTTP, no sleeping. What the loop asks for (call,
sleep, hook point) and what it concludes are checked step by step, including the cooldown's probe lease."""

from __future__ import annotations

import httpx
import pytest
from langchain_core.messages import AIMessage

from tierwise import Context, ModelCallError
from tierwise.calls import CallHook
from tierwise.calls.cooldown import Cooldowns
from tierwise.calls.endpoint import Endpoint
from tierwise.calls.loop import Call, Hook, Reply, Sleep, attempt_loop
from tierwise.calls.plan import Attempts, CallPlan
from tierwise.tiers import build_registry

LITE, OLD_LITE, FLASH = "gemini-3.5-flash-lite", "gemini-3.1-flash-lite", "gemini-3.8-flash"
USAGE = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def plan(stage: str = "draft", **resilience) -> CallPlan:
    registry = build_registry(overrides={"resilience": {"base_delay_s": 0.5, "max_delay_s": 2.0, **resilience}})
    return CallPlan(route=registry.stage(stage), registry=registry,
                    endpoint=Endpoint("custom", "http://127.0.0.1:9", "key"), messages=(("user", "hi"),),
                    context=Context(), hooks=())


def good(text: str = "fine") -> Reply:
    return Reply(AIMessage(content=text, usage_metadata=USAGE), None, 0.01)


def timeout() -> Reply:
    return Reply(None, httpx.ReadTimeout("read timed out"), 0.5)


def empty_with_tokens() -> Reply:
    return Reply(AIMessage(content="", usage_metadata=USAGE), None, 0.01)


class Driver:
    """Runs the loop with one scripted reply per call; sleeps advance the fake clock. Records every action."""

    def __init__(self, the_plan: CallPlan, replies: dict[str, list[Reply]], cooldowns: Cooldowns | None = None):
        self.plan, self.replies = the_plan, replies
        self.clock = Clock()
        self.cooldowns = cooldowns or Cooldowns(clock=self.clock)
        self.attempts = Attempts()
        self.log: list[tuple] = []

    def run(self):
        loop = attempt_loop(self.plan, self.attempts, self.cooldowns, clock=self.clock)
        try:
            action = next(loop)
            while True:
                if isinstance(action, Call):
                    self.log.append(("call", action.candidate.model_id))
                    reply = self.replies[action.candidate.model_id].pop(0)
                    self.clock.now += reply.seconds
                    action = loop.send(reply)
                elif isinstance(action, Sleep):
                    self.log.append(("sleep", round(action.seconds, 3)))
                    self.clock.now += action.seconds
                    action = loop.send(None)
                else:
                    assert isinstance(action, Hook)
                    self.log.append(("hook", action.point))
                    action = loop.send(None)
        except StopIteration as done:
            return done.value


def calls(log):
    return [entry[1] for entry in log if entry[0] == "call"]


class Attempting(CallHook):
    """A hook with something to do around each attempt."""

    name = "attempting"

    def before_attempt(self, plan, candidate, attempts):
        pass

    def after_attempt(self, plan, record, attempts):
        pass


def test_a_good_answer_ends_the_loop_with_hooks_around_the_one_attempt():
    driver = Driver(plan().replace(hooks=(Attempting(),)), {LITE: [good()]})
    result = driver.run()
    assert result.value == "fine"
    assert driver.log == [("hook", "before_attempt"), ("call", LITE), ("hook", "after_attempt")]
    assert [r.outcome for r in driver.attempts.records] == ["ok"]
    assert result.record.cost_usd > 0


def test_transient_failures_are_retried_with_backoff_then_the_chain_moves_on():
    driver = Driver(plan(max_attempts=2), {LITE: [timeout(), timeout()], OLD_LITE: [good()]})
    result = driver.run()
    assert calls(driver.log) == [LITE, LITE, OLD_LITE]
    sleeps = [entry[1] for entry in driver.log if entry[0] == "sleep"]
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5  # jittered base delay, after the first failure only
    assert result.record.fallback is True
    assert [r.error_kind for r in driver.attempts.records] == ["timeout", "timeout", None]


def test_an_unusable_answer_is_priced_and_not_retried_on_the_same_model_when_it_is_not_transient():
    from pydantic import BaseModel

    class Score(BaseModel):
        score: int

    the_plan = plan("judge").replace(schema=Score)
    bad = Reply(AIMessage(content='{"nope": 1}', usage_metadata=USAGE), None, 0.01)
    driver = Driver(the_plan, {FLASH: [bad], "gemini-3.5-flash": [Reply(AIMessage(
        content='{"score": 8}', usage_metadata=USAGE), None, 0.01)]})
    result = driver.run()
    assert result.value == Score(score=8)
    assert driver.attempts.records[0].outcome == "unusable"
    assert driver.attempts.records[0].cost_usd > 0  # its tokens were billed


def test_every_model_failing_raises_with_every_attempt_priced():
    driver = Driver(plan(max_attempts=1), {LITE: [timeout()], OLD_LITE: [timeout()], FLASH: [timeout()]})
    with pytest.raises(ModelCallError) as failed:
        driver.run()
    assert failed.value.kind == "timeout"
    assert [r.model for r in failed.value.records] == [LITE, OLD_LITE, FLASH]


def test_the_time_budget_stops_retries():
    driver = Driver(plan(max_attempts=50, request_budget_s=2.0), {m: [timeout()] * 50 for m in (LITE, OLD_LITE, FLASH)})
    with pytest.raises(ModelCallError):
        driver.run()
    assert driver.clock.now - 1000.0 <= 2.0 + 0.5  # at most one attempt started before the deadline overruns it


def _open(cooldowns: Cooldowns, key: str) -> None:
    for _ in range(5):
        cooldowns.failed(key, failures=5, window_s=30, cooldown_s=0.0, ratio=0.5)


@pytest.mark.parametrize("reply", [empty_with_tokens, lambda: Reply(None, ValueError("odd"), 0.01)])
def test_a_probe_that_ends_without_a_verdict_is_released(reply):
    """Issue: a half-open probe that ended unusable (or with any non-transient failure) left the model "probing"
    for the rest of the process: every later request skipped it."""
    the_plan = plan(max_attempts=1)
    key = f"{the_plan.endpoint.base_url}|{LITE}"
    cooldowns = Cooldowns()
    _open(cooldowns, key)
    Driver(the_plan, {LITE: [reply()], OLD_LITE: [good()]}, cooldowns).run()
    assert cooldowns.acquire(key) is not None  # another request may probe it again


def test_a_probe_cut_off_by_an_exception_in_a_hook_is_released():
    the_plan = plan(max_attempts=1).replace(hooks=(Attempting(),))
    key = f"{the_plan.endpoint.base_url}|{LITE}"
    cooldowns = Cooldowns()
    _open(cooldowns, key)
    loop = attempt_loop(the_plan, Attempts(), cooldowns)
    assert next(loop).point == "before_attempt"
    with pytest.raises(RuntimeError):
        loop.throw(RuntimeError("a hook refused"))
    assert cooldowns.acquire(key) is not None


def test_only_one_request_probes_a_cooled_down_model_at_a_time():
    cooldowns = Cooldowns()
    _open(cooldowns, "m")
    first = cooldowns.acquire("m")
    assert first and cooldowns.acquire("m") is None
    cooldowns.release("m", first)
    assert cooldowns.acquire("m")


# ---- the retry policy: critical stages persist, non-critical ones move on ------------------------------------------
PRO = "gemini-3.1-pro-preview"


def rate_limited(retry_after_s: float = 1.0) -> Reply:
    """A 429 as the real client raises it: LangChain's error wrapping google-genai's, which carries RetryInfo."""
    from google.genai.errors import ClientError
    from langchain_core.exceptions import ModelRateLimitError

    body = {"error": {"code": 429, "message": "quota exceeded", "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after_s}s"}]}}
    error = ModelRateLimitError("429 RESOURCE_EXHAUSTED")
    error.__cause__ = ClientError(429, body)
    return Reply(None, error, 0.01)


def unavailable() -> Reply:
    from google.genai.errors import ServerError
    from langchain_core.exceptions import ModelAPIError

    error = ModelAPIError("503 UNAVAILABLE")
    error.__cause__ = ServerError(503, {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}})
    return Reply(None, error, 0.01)


def malformed() -> Reply:
    import json

    return Reply(None, json.JSONDecodeError("Expecting value", "<html>", 0), 0.01)


def bad_request() -> Reply:
    from langchain_core.exceptions import ModelInvalidRequestError

    return Reply(None, ModelInvalidRequestError("400 INVALID_ARGUMENT: thinking_level minimal is not supported"), 0.01)


def sleeps(log):
    return [entry[1] for entry in log if entry[0] == "sleep"]


def test_a_critical_stage_retries_transient_failures_past_max_attempts_until_it_answers():
    """Issue 13.2: reason/polish gave up after 3 attempts with most of their time budget unspent."""
    faults = [rate_limited(1.0), unavailable(), timeout(), malformed(), rate_limited(1.0), unavailable(),
              timeout(), rate_limited(1.0)]
    driver = Driver(plan("reason", max_attempts=3, cooldown_failures=100), {PRO: [*faults, good("reasoned")]})
    result = driver.run()
    assert result.value == "reasoned"
    assert calls(driver.log) == [PRO] * 9  # never a cheaper model
    assert [r.attempt for r in driver.attempts.records] == list(range(1, 10))
    waited = sleeps(driver.log)
    assert len(waited) == 8 and all(w > 0 for w in waited)
    after_429 = [waited[i] for i, f in enumerate(faults) if f.error.__class__.__name__ == "ModelRateLimitError"]
    assert all(w >= 1.0 for w in after_429)  # the server's RetryInfo is honoured


def test_a_critical_stage_waits_for_its_cooled_down_model_and_probes_it():
    driver = Driver(plan("reason", max_attempts=10, cooldown_failures=3, cooldown_s=20.0),
                    {PRO: [unavailable()] * 3 + [good()]})
    driver.run()
    assert calls(driver.log) == [PRO] * 4
    assert 20.0 <= driver.clock.now - 1000.0 <= 25.0  # it waited out the cooldown, then probed


def test_a_critical_stage_gives_up_only_when_its_time_budget_is_spent():
    driver = Driver(plan("reason", max_attempts=3, request_budget_s=30.0, cooldown_failures=1000),
                    {PRO: [rate_limited(1.0)] * 100})
    with pytest.raises(ModelCallError) as failed:
        driver.run()
    assert failed.value.kind == "rate_limited"
    spent = driver.clock.now - 1000.0
    # It kept at it until less than one wait (<= max_delay_s, 2 s) was left. Attempts start only within the budget;
    # the last one's own 0.01 s (a scripted reply ignores the timeout a real client is given) may end just past it.
    assert 28.0 <= spent <= 30.0 + 0.01
    assert len(driver.attempts.records) > 3


def test_a_critical_stage_waits_out_a_long_retry_after_that_a_non_critical_stage_will_not():
    driver = Driver(plan("reason", max_wait_s=5.0), {PRO: [rate_limited(40.0), good()]})
    driver.run()
    assert sleeps(driver.log) == [40.0]
    driver = Driver(plan("draft", max_wait_s=5.0), {LITE: [rate_limited(40.0)], OLD_LITE: [good()]})
    driver.run()
    assert sleeps(driver.log) == [] and calls(driver.log) == [LITE, OLD_LITE]  # moved on at once


def test_a_non_critical_stage_honours_retry_after_then_falls_back_after_its_attempts():
    driver = Driver(plan("draft", max_attempts=2), {LITE: [rate_limited(1.5), rate_limited(1.5)],
                                                    OLD_LITE: [good()]})
    result = driver.run()
    assert calls(driver.log) == [LITE, LITE, OLD_LITE] and sleeps(driver.log) == [1.5]
    assert result.record.fallback is True


def test_a_critical_stage_does_not_retry_what_retrying_cannot_fix():
    driver = Driver(plan("reason"), {PRO: [bad_request()]})
    with pytest.raises(ModelCallError) as failed:
        driver.run()
    assert failed.value.kind == "bad_request" and calls(driver.log) == [PRO] and sleeps(driver.log) == []


def test_a_critical_stage_goes_round_its_chain_again():
    """With fallbacks (its tier or higher), a critical stage tries each in turn, then waits and goes round again."""
    other_pro = "gemini-3-pro-preview"
    registry = build_registry(overrides={
        "resilience": {"base_delay_s": 0.5, "max_delay_s": 2.0, "max_attempts": 1},
        "models": {other_pro: {"tier": "pro", "context_window": 1_048_576,
                               "prices": [{"effective": "2026-01-01", "input": 2.0, "output": 12.0}]}},
        "stages": {"polish": {"fallbacks": [other_pro]}}})
    the_plan = plan("polish").replace(registry=registry, route=registry.stage("polish"))
    driver = Driver(the_plan, {PRO: [unavailable(), unavailable(), good()], other_pro: [timeout(), bad_request()]})
    driver.run()
    assert calls(driver.log) == [PRO, other_pro, PRO, other_pro, PRO]
    assert len(sleeps(driver.log)) == 2  # one wait per pass, not per model
    # the bad request dropped the other model from later passes; only Pro was tried again


# ---- the cooldown's probe lease: released whatever the probe ends with ---------------------------------------------
def blocked() -> Reply:
    return Reply(AIMessage(content="", usage_metadata=USAGE, response_metadata={"finish_reason": "SAFETY"}), None, 0.01)


def cut_at_max_tokens() -> Reply:
    return Reply(AIMessage(content="half an ans", usage_metadata=USAGE,
                           response_metadata={"finish_reason": "MAX_TOKENS"}), None, 0.01)


def cut_stream() -> Reply:
    return Reply(None, httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
                 0.01)


@pytest.mark.parametrize("reply", [blocked, cut_at_max_tokens, cut_stream, bad_request, empty_with_tokens],
                         ids=["blocked", "cut_at_max_tokens", "cut_stream", "bad_request", "unusable"])
def test_a_probe_is_released_whatever_it_ends_with(reply):
    the_plan = plan(max_attempts=1)
    key = f"{the_plan.endpoint.base_url}|{LITE}"
    cooldowns = Cooldowns()
    _open(cooldowns, key)
    driver = Driver(the_plan, {LITE: [reply()], OLD_LITE: [good()]}, cooldowns)
    driver.run()
    assert calls(driver.log)[0] == LITE  # this request was the probe
    assert cooldowns.acquire(key, now=10**9) is not None  # and the model is not left "probing"


def test_a_probe_cut_off_by_the_deadline_is_released():
    """The lease is taken, then the time budget is found spent before the first attempt: no call, no verdict."""
    import itertools

    the_plan = plan(max_attempts=1, request_budget_s=1.0)
    key = f"{the_plan.endpoint.base_url}|{LITE}"
    cooldowns = Cooldowns(clock=lambda: 0.0)
    _open(cooldowns, key)
    jumping = itertools.count(0.0, 2.0).__next__  # every reading of the clock is 2 s later than the last
    loop = attempt_loop(the_plan, Attempts(), cooldowns, clock=jumping)
    with pytest.raises(ModelCallError):
        next(loop)  # no action at all: the loop gives up at once
    assert cooldowns.acquire(key) is not None


def test_a_probe_that_succeeds_closes_the_cooldown_and_one_that_fails_transiently_reopens_it():
    the_plan = plan(max_attempts=1)
    key = f"{the_plan.endpoint.base_url}|{LITE}"
    cooldowns = Cooldowns()
    _open(cooldowns, key)
    Driver(the_plan, {LITE: [good()]}, cooldowns).run()
    assert cooldowns.acquire(key) == 0  # healthy again: an ordinary call
    _open(cooldowns, key)
    Driver(the_plan, {LITE: [timeout()], OLD_LITE: [good()]}, cooldowns).run()
    assert cooldowns.ready_at(key) > 0 and cooldowns.acquire(key, now=0.0) is None  # cooling down again


def answer(text: str = "", **metadata) -> Reply:
    return Reply(AIMessage(content=text, usage_metadata=USAGE, response_metadata=metadata), None, 0.01)


def test_a_blocked_prompt_is_its_own_failure_tried_once():
    """Gemini refuses the prompt itself (promptFeedback.blockReason, no candidates): no other model of the chain
    would answer it, and retrying the same one only bills again."""
    driver = Driver(plan(), {LITE: [answer(prompt_feedback={"block_reason": "SAFETY", "safety_ratings": []})]})
    with pytest.raises(ModelCallError) as failed:
        driver.run()
    assert failed.value.kind == "blocked_prompt"
    assert calls(driver.log) == [LITE]


@pytest.mark.parametrize(("finish", "expected"), [
    ("OTHER", [LITE, LITE]), ("MALFORMED_FUNCTION_CALL", [LITE, LITE]),
    ("LANGUAGE", [LITE, OLD_LITE]), ("UNEXPECTED_TOOL_CALL", [LITE, OLD_LITE]),
    ("TOO_MANY_TOOL_CALLS", [LITE, OLD_LITE]),
])
def test_finish_reasons_without_a_usable_answer_are_failures(finish, expected):
    replies = {LITE: [answer("half an answer", finish_reason=finish), good()], OLD_LITE: [good()]}
    driver = Driver(plan(), replies)
    result = driver.run()
    assert calls(driver.log) == expected
    assert driver.attempts.records[0].error_kind == "bad_finish"
    assert result.value == "fine"


def _client_error(code: int, status: str, reason: str | None = None) -> BaseException:
    from google.genai.errors import ClientError
    from langchain_google_genai.chat_models import _handle_client_error

    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                "domain": "googleapis.com"}] if reason else []
    error = ClientError(code, {"error": {"code": code, "message": "API key not valid. Please pass a valid API key.",
                                         "status": status, "details": details}})
    try:
        _handle_client_error(error, {"model": LITE})  # what langchain-google-genai raises for it
    except Exception as raised:  # noqa: BLE001
        return raised
    raise AssertionError("not raised")


@pytest.mark.parametrize(("code", "status", "reason"), [(400, "INVALID_ARGUMENT", "API_KEY_INVALID"),
                                                        (403, "PERMISSION_DENIED", None)])
def test_a_refused_key_is_fatal_and_names_the_variable(code, status, reason):
    driver = Driver(plan(), {LITE: [Reply(None, _client_error(code, status, reason), 0.01)]})
    with pytest.raises(ModelCallError) as failed:
        driver.run()
    assert failed.value.kind == "auth"
    assert "GOOGLE_API_KEY" in str(failed.value)
    assert calls(driver.log) == [LITE]  # no fallbacks: the same key goes to every model


def test_a_plain_bad_request_is_not_an_auth_failure():
    driver = Driver(plan(max_attempts=1), {LITE: [Reply(None, _client_error(400, "INVALID_ARGUMENT"), 0.01)],
                                           OLD_LITE: [good()]})
    driver.run()
    assert driver.attempts.records[0].error_kind == "bad_request"


def test_points_no_hook_acts_on_are_not_yielded():
    """A hook that does nothing around attempts (or no hook at all) costs the loop no round trip."""

    class OnlyAfterSuccess(CallHook):
        name = "only-after-success"

        def after_success(self, plan, result):
            pass

    for hooks in ((), (OnlyAfterSuccess(),)):
        driver = Driver(plan().replace(hooks=hooks), {LITE: [good()]})
        driver.run()
        assert driver.log == [("call", LITE)]
