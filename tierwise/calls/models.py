"""Chat models, built once per (model, settings, endpoint, schema) and reused: construction is not free."""

from __future__ import annotations

import weakref
from functools import lru_cache
from typing import Any

from tierwise.tiers import CallSettings, StageModel

from .endpoint import Endpoint
from .served import CLIENT_ARGS

# (temperature, max_output_tokens, thinking_level, thinking_budget): what the chat model is built with.
Settings = tuple[float | None, int, str | None, int | None]


def runnable_for(route: StageModel, settings: CallSettings, endpoint: Endpoint, schema: type | None,
                 tools: Any = None, loop: Any = None, transport: Any = None) -> Any:
    """The chat model for a stage, wrapped for structured output when a schema is asked for, or bound to tools.

    `loop`: the running event loop of an async call. google-genai's async transport belongs to the loop it was
    first used on (a second `asyncio.run` would find it closed), so async callers get models cached per loop.
    `transport`: a deferred call's httpx transport (deferred.py), in place of the network.
    """
    sent = (settings.temperature, settings.max_output_tokens, settings.thinking_level, settings.thinking_budget)
    base: tuple[Any, ...] = (route.model_id, sent, endpoint)
    if transport is not None:
        base = (*base, transport)
    if loop is None and transport is not None:
        from tierwise.errors import InvalidInputError

        raise InvalidInputError("the Batch API (--api batch) runs async stage calls only: use acall_stage / ainvoke")
    if loop is None:
        return _chat_model(*base).bind_tools(list(tools)) if tools else _runnable(*base, schema)
    cache = _per_loop.setdefault(loop, {})
    if base not in cache:
        cache[base] = _build(*base)
    if tools:
        return cache[base].bind_tools(list(tools))
    if (*base, schema) not in cache:
        cache[(*base, schema)] = _wrap(cache[base], schema)
    return cache[(*base, schema)]


_per_loop: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = weakref.WeakKeyDictionary()


@lru_cache(maxsize=512)
def _runnable(model_id: str, settings: Settings, endpoint: Endpoint, schema: type | None) -> Any:
    return _wrap(_chat_model(model_id, settings, endpoint), schema)


def _wrap(model: Any, schema: type | None) -> Any:
    if schema is None:
        return model
    # What with_structured_output(method="json_schema") binds, minus its parser: we parse in the call path.
    # Gap: include_raw=True (needed to bill the raw message's usage) wraps the model in a RunnableParallel
    # that hops to a fresh thread pool on every call, which doubled tierwise's per-request overhead.
    from langchain_core.utils.function_calling import convert_to_json_schema

    return model.bind(
        response_mime_type="application/json",
        response_json_schema=schema.model_json_schema(),  # type: ignore[attr-defined]  # a pydantic model class
        ls_structured_output_format={"kwargs": {"method": "json_schema"}, "schema": convert_to_json_schema(schema)},
    )


@lru_cache(maxsize=256)
def _chat_model(model_id: str, settings: Settings, endpoint: Endpoint) -> Any:
    return _build(model_id, settings, endpoint)


def _build(model_id: str, settings: Settings, endpoint: Endpoint, transport: Any = None) -> Any:
    # Imported here so that `import tierwise` stays free of the Gemini client until the first call.
    from langchain_google_genai import ChatGoogleGenerativeAI

    temperature, max_output_tokens, thinking_level, thinking_budget = settings
    kwargs: dict[str, Any] = {
        "model": model_id,
        "temperature": temperature,  # None: the model's own fixed sampling
        "max_output_tokens": max_output_tokens,
        "vertexai": endpoint.kind == "vertex",
        # notes the tier that served each call (calls/served.py); a deferred call's transport replaces the network
        "client_args": CLIENT_ARGS if transport is None else {**CLIENT_ARGS, "transport": transport},
        "max_retries": 1,  # 1 = no SDK retries: they ignore Retry-After; tierwise.calls.loop retries instead
    }
    if endpoint.kind == "vertex" and endpoint.project:  # project mode: credentials, no key
        kwargs.update(project=endpoint.project, location=endpoint.location)
        if endpoint.credentials is not None:
            kwargs["credentials"] = endpoint.credentials
    else:  # the Gemini API, an emulator, or Vertex AI express mode
        kwargs["google_api_key"] = endpoint.api_key
    if endpoint.base_url:
        kwargs["base_url"] = endpoint.base_url
    if thinking_level is not None:
        kwargs["thinking_level"] = thinking_level
    elif thinking_budget is not None:
        kwargs["thinking_budget"] = thinking_budget
    return ChatGoogleGenerativeAI(**kwargs)
