"""The strict emulator's judge: refuse, as Gemini does, what Gemini refuses.

The body's shape is checked with google-genai's own pydantic types (they forbid unknown fields and
mirror the REST schema, camelCase or snake_case), so the emulator does not keep a schema of its own;
the model's limits come from the catalogue (:mod:`.catalogue`). Each refusal is a
:class:`BackendError` whose status and message read like Google's. ``google.genai`` is imported on
the first strict request, never at package import.
"""

from __future__ import annotations

import enum
import functools
import json
import re
import warnings
from typing import TYPE_CHECKING, Any

from .backend import BackendError
from .catalogue import ModelLimits, modality_of

if TYPE_CHECKING:
    import pydantic
    from pydantic_core import ErrorDetails

_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_SIGNATURES_DOC = "https://ai.google.dev/gemini-api/docs/thought-signatures"
_PROTO = "type.googleapis.com/google.ai.generativelanguage.v1beta."
_ROLES = ("user", "model")
# Fixed-sampling models (Gemini 3.5 Flash-Lite's model page, "breaking changes"; 3.6 Flash and later): custom
# temperature, topK and topP "will be ignored"; presence and frequency penalties "throw an error"; so does a
# request whose last content has role "model" (a prefill).
# https://docs.cloud.google.com/vertex-ai/generative-ai/docs/models/gemini/3-5-flash-lite
_PENALTIES = (("presencePenalty", "presence_penalty"), ("frequencyPenalty", "frequency_penalty"))
_SCALARS = {
    "float": "TYPE_FLOAT", "int": "TYPE_INT32", "bool": "TYPE_BOOL", "string": "TYPE_STRING", "bytes": "TYPE_BYTES",
}


def model_not_found(model: str, version: str = "v1beta") -> BackendError:
    """Gemini's 404 for a model id it does not serve."""
    return BackendError(
        404,
        f"models/{model} is not found for API version {version}, or is not supported for generateContent. "
        "Call ListModels to see the list of available models and their supported methods.",
    )


VERTEX_TIER_HEADER = "x-vertex-ai-llm-shared-request-type"
# Vertex AI's Flex and Priority PayGo pages: the header's values ("flex", "priority"); without it, Standard PayGo.
VERTEX_TIERS = ("flex", "priority")


def vertex_tier(header: str | None, limits: ModelLimits) -> str | None:
    """The tier a Vertex request asks for with ``X-Vertex-AI-LLM-Shared-Request-Type`` (None: standard), checked
    against the model's tiers (https://docs.cloud.google.com/vertex-ai/generative-ai/docs/flex-paygo)."""
    if header is None:
        return None
    tier = header.strip().lower()
    if tier not in VERTEX_TIERS:
        raise BackendError(400, f"Invalid value for header X-Vertex-AI-LLM-Shared-Request-Type: {header!r}. "
                                f"Supported values: {', '.join(VERTEX_TIERS)}.")
    if tier not in limits.service_tiers:
        raise BackendError(400, f"{tier.capitalize()} PayGo is not supported for models/{limits.name}.")
    return tier


def check(body: Any, limits: ModelLimits, *, method: str = "generateContent", vertex: bool = False) -> None:
    """Raise :class:`BackendError` (400 INVALID_ARGUMENT) for anything ``limits.name`` would refuse."""
    if not isinstance(body, dict):
        raise BackendError(400, "Invalid JSON payload received. Expected an object.")
    if method == "countTokens" and "generateContentRequest" in body:
        if set(body) - {"generateContentRequest"}:
            extra = sorted(set(body) - {"generateContentRequest"})[0]
            raise _unknown_name(extra, ())
        body = body["generateContentRequest"] or {}
    request = _validate_shape(body, vertex)
    _check_enums(request, ())
    _check_roles(request)
    _check_cache(request)
    _check_config(request.generation_config, limits)
    if vertex and request.service_tier is not None:
        raise _vertex_body_tier(request.service_tier)
    _check_tier(request.service_tier, limits)
    _check_modalities(request, limits)
    if method != "countTokens" and limits.enforces_function_call_signatures:
        _check_signatures(request)
    if method != "countTokens" and not limits.sampling:
        _check_no_prefill(request, limits)


# ------------------------------------------------------------------------------------------ shape


@functools.cache
def _request_model(vertex: bool) -> type[pydantic.BaseModel]:
    """A pydantic model of the REST ``GenerateContentRequest`` built from google-genai's own types."""
    import pydantic
    from google.genai import _common, types

    fields: dict[str, Any] = {
        "model": (str | None, None),  # countTokens' generateContentRequest names its model
        "contents": (list[types.Content] | None, None),
        "system_instruction": (types.Content | None, None),
        "generation_config": (types.GenerationConfig | None, None),
        "safety_settings": (list[types.SafetySetting] | None, None),
        "tools": (list[types.Tool] | None, None),
        "tool_config": (types.ToolConfig | None, None),
        "cached_content": (str | None, None),
        "service_tier": (types.ServiceTier | None, None),
        "continuation_token": (bytes | None, None),  # resumes an answer that ended with CONTINUATION
    }
    if vertex:
        fields["labels"] = (dict[str, str] | None, None)
    return pydantic.create_model("GenerateContentRequest", __base__=_common.BaseModel, **fields)


def _validate_shape(body: dict[str, Any], vertex: bool) -> Any:
    import pydantic

    model = _request_model(vertex)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the SDK warns on odd enum values; we refuse them below
            return model.model_validate(body)
    except pydantic.ValidationError as exc:
        raise _from_pydantic(exc.errors(include_url=False)[0]) from None


def _from_pydantic(error: ErrorDetails) -> BackendError:
    loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return _unknown_name(str(loc[-1]), loc[:-1])
    path = _path(loc)
    value = json.dumps(error.get("input"), ensure_ascii=False, default=str)
    scalar = next((name for key, name in _SCALARS.items() if kind.startswith(key)), None)
    if scalar is not None:
        message = f"Invalid value at '{path}' ({scalar}), {value}"
    elif kind in ("list_type", "tuple_type"):
        message = f"Invalid value at '{path}': expected a list, got {value}"
    elif kind in ("model_type", "dict_type", "model_attributes_type"):
        message = f"Invalid value at '{path}': expected an object, got {value}"
    else:
        message = f"Invalid value at '{path}', {value}: {error.get('msg', 'invalid')}"
    return _field_error(path, message)


def _unknown_name(name: str, parent: tuple[Any, ...]) -> BackendError:
    where = _path(parent)
    at = f" at '{where}'" if where else ""
    message = f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.'
    return _field_error(where, message)


def _field_error(field: str, message: str) -> BackendError:
    violation = {"field": field, "description": message} if field else {"description": message}
    return BackendError(400, message, details=[{"@type": _BAD_REQUEST, "fieldViolations": [violation]}])


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "lax-", "union[")):  # pydantic's own validator steps
            out += ("." if out else "") + _snake(str(part))
    return out


# ------------------------------------------------------------------------------------------ enums


def _check_enums(value: Any, loc: tuple[Any, ...]) -> None:
    """Refuse enum values the API does not define (the SDK's enums let unknown ones through)."""
    if isinstance(value, enum.Enum):
        if _enum_name(value) is None:
            message = f"Invalid value at '{_path(loc)}' ({_PROTO}{type(value).__name__}), {json.dumps(value.value)}"
            raise _field_error(_path(loc), message)
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_enums(item, (*loc, i))
        return
    fields = getattr(type(value), "model_fields", None)
    if fields is None:
        return
    for name in fields:
        item = getattr(value, name, None)
        if item is not None:
            _check_enums(item, (*loc, name))


def _enum_name(value: enum.Enum) -> str | None:
    """The member ``value`` names: the SDK's own spelling, or the proto's prefixed one (SERVICE_TIER_FLEX)."""
    members = type(value).__members__
    if value.name in members:
        return value.name
    prefix = _snake(type(value).__name__).upper() + "_"
    name = str(value.value).upper().removeprefix(prefix)
    return name if name in members else None


# ------------------------------------------------------------------------------------------ semantics


def _check_roles(request: Any) -> None:
    for content in request.contents or []:
        if content.role is not None and content.role not in _ROLES:
            raise BackendError(400, "Please use a valid role: user, model.")


def _check_no_prefill(request: Any, limits: ModelLimits) -> None:
    contents = request.contents or []
    if contents and contents[-1].role == "model":
        raise BackendError(
            400,
            f"Model prefill is not supported for models/{limits.name}: the last content of the request must have "
            "role user (a message or a function response), not model.",
        )


def _check_cache(request: Any) -> None:
    if request.cached_content and (request.system_instruction or request.tools or request.tool_config):
        raise BackendError(
            400,
            "CachedContent can not be used with GenerateContent request setting system_instruction, tools or "
            "tool_config.\n\nProposed fix: move those values to CachedContent from GenerateContent request.",
        )


def _range(name: str, value: float, low: float, high: float, *, high_inclusive: bool = True) -> None:
    ok = low <= value <= high if high_inclusive else low <= value < high
    if not ok:
        bound = "inclusive" if high_inclusive else "exclusive"
        raise BackendError(
            400,
            f"Unable to submit request because it has a {name} value of {value:g} but the supported range is "
            f"from {low:g} (inclusive) to {high:g} ({bound}). Update the value and try again.",
        )


def _check_config(config: Any, limits: ModelLimits) -> None:
    if config is None:
        return
    if not limits.sampling:  # fixed sampling: temperature/topP/topK are ignored, penalties refused
        for camel, attr in _PENALTIES:
            if getattr(config, attr, None) is not None:
                raise BackendError(
                    400,
                    f"Unable to submit request because {camel} is not supported by models/{limits.name}. "
                    "Remove it and try again.",
                )
    if config.temperature is not None:
        _range("temperature", config.temperature, 0, 2)
    if config.top_p is not None:
        _range("topP", config.top_p, 0, 1)
    if config.top_k is not None:
        _range("topK", config.top_k, 1, 41, high_inclusive=False)
    if config.candidate_count is not None and config.candidate_count != 1:
        _range("candidateCount", config.candidate_count, 1, 2, high_inclusive=False)
    if config.max_output_tokens is not None:
        _range("maxOutputTokens", config.max_output_tokens, 1, limits.max_output_tokens + 1, high_inclusive=False)
    _check_thinking(config.thinking_config, limits)


def _check_thinking(thinking: Any, limits: ModelLimits) -> None:
    if thinking is None:
        return
    level, budget = thinking.thinking_level, thinking.thinking_budget
    if level is not None and budget is not None:
        raise BackendError(
            400, "You can only set only one of thinking budget and thinking level. Please remove one of them."
        )
    if level is not None:
        name = _enum_name(level) or str(level.value).upper()
        if not limits.thinking_levels:
            raise BackendError(400, "Thinking level is not supported for this model.")
        if name.lower() not in limits.thinking_levels:
            raise BackendError(
                400, f"Thinking level {name} is not supported for this model. Please retry with other thinking level."
            )
    if budget is not None and not limits.thinking_budget:
        raise BackendError(400, "Thinking budget is not supported for this model. Please use thinking level instead.")
    if budget is not None and budget > 0:
        low, high = limits.thinking_budget_min, limits.thinking_budget_max
        if (low is not None and budget < low) or (high is not None and budget > high):
            raise BackendError(400, f"The thinking budget ({budget}) is invalid.")
    if budget is not None and budget < -1:
        raise BackendError(400, f"The thinking budget ({budget}) is invalid.")


def _vertex_body_tier(tier: Any) -> BackendError:
    """Vertex AI does not take the Gemini API's serviceTier values in the body (googleapis/python-genai#2433);
    the tier goes in the X-Vertex-AI-LLM-Shared-Request-Type header."""
    value = json.dumps(str(getattr(tier, "value", tier)))
    message = (f"Invalid value at 'service_tier' (type.googleapis.com/google.cloud.aiplatform.v1beta1.ServiceTier), "
               f"{value}")
    return _field_error("service_tier", message)


def _check_tier(tier: Any, limits: ModelLimits) -> None:
    if tier is None:
        return
    name = (_enum_name(tier) or str(tier.value)).lower()
    if name != "unspecified" and name not in limits.service_tiers:
        offered = ", ".join(limits.service_tiers)
        raise BackendError(
            400, f"Service tier {name} is not available for models/{limits.name}. Available tiers: {offered}."
        )


def _check_modalities(request: Any, limits: ModelLimits) -> None:
    contents = list(request.contents or [])
    if request.system_instruction is not None:
        contents.append(request.system_instruction)
    for content in contents:
        for part in content.parts or []:
            media = part.inline_data or part.file_data
            if media is None or not media.mime_type:
                continue
            modality = modality_of(media.mime_type)
            if modality not in limits.input_modalities:
                raise BackendError(
                    400, f"{modality.capitalize()} input modality is not enabled for models/{limits.name}."
                )


def _check_signatures(request: Any) -> None:
    """Gemini 3's thought-signature rule, on the current turn only (Google's thought-signatures docs).

    The current turn starts at the latest user content with standard content (text, media: not a
    functionResponse); every model step after it that calls functions must send its first functionCall
    part back with the ``thoughtSignature`` it came with (parallel calls: only the first part has one).
    Any signature passes, Google's documented dummies ("skip_thought_signature_validator",
    "context_engineering_is_the_way_to_go") included: the emulator cannot tell a real one, and Google
    accepts another model's signature (it drops that model's thoughts).
    """
    contents = list(request.contents or [])
    start = 0
    for i in range(len(contents) - 1, -1, -1):
        if _starts_turn(contents[i]):
            start = i + 1
            break
    for i in range(start, len(contents)):
        content = contents[i]
        if content.role != "model":
            continue
        first = next((p for p in content.parts or [] if p.function_call is not None), None)
        if first is not None and not first.thought_signature:
            raise BackendError(
                400,
                "Function call is missing a thought_signature in functionCall parts. This is required for tools "
                "to work correctly, and missing thought_signature may lead to degraded model performance. "
                f"Additional data, function call `default_api:{first.function_call.name}` , position {i + 1}. "
                f"Please refer to {_SIGNATURES_DOC} for more details.",
            )


def _starts_turn(content: Any) -> bool:
    """A user content with standard content and no functionResponse: the start of a turn."""
    if content.role not in (None, "user") or not content.parts:
        return False
    return not any(part.function_response is not None for part in content.parts)
