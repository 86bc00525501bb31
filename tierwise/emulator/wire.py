"""Gemini REST wire format: JSON bodies in, JSON bodies out.

Pure functions with no I/O, so the translation is testable without sockets. Field names follow
the ``v1beta`` REST API as google-genai sends it (camelCase); snake_case is accepted too because
the real API accepts both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from . import tokens
from .backend import BackendError, GenerateRequest, Generation
from .schema import from_openapi


def _get(obj: dict[str, Any], camel: str, default: Any = None) -> Any:
    """Read a field by its camelCase name or the snake_case twin."""
    if camel in obj:
        return obj[camel]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return obj.get(snake, default)


def _invalid(message: str) -> BackendError:
    return BackendError(400, message)


def _texts(content: Any, where: str) -> str:
    """Newline-join the text parts of one ``Content``, skipping thought and non-text parts."""
    if not isinstance(content, dict):
        raise _invalid(f"Invalid value at '{where}': expected a Content object.")
    parts = content.get("parts") or []
    if not isinstance(parts, list):
        raise _invalid(f"Invalid value at '{where}.parts': expected a list.")
    texts = []
    for part in parts:
        if not isinstance(part, dict):
            raise _invalid(f"Invalid value at '{where}.parts': expected Part objects.")
        if isinstance(part.get("text"), str) and not part.get("thought"):
            texts.append(part["text"])
    return "\n".join(texts)


def _function_responses(content: dict[str, Any], where: str) -> list[str]:
    """Each ``functionResponse`` part of one ``Content`` as ``"name: result text"``."""
    results = []
    for part in content.get("parts") or []:
        response = _get(part, "functionResponse")
        if response is None:
            continue
        if not isinstance(response, dict) or not isinstance(response.get("name"), str):
            raise _invalid(f"Invalid value at '{where}.parts': functionResponse needs a name.")
        results.append(f"{response['name']}: {_result_text(response.get('response'))}")
    return results


def _result_text(result: Any) -> str:
    """A tool result as text: langchain wraps a ToolMessage's content as ``{"output": ...}``."""
    if isinstance(result, dict) and len(result) == 1:
        (key, value), = result.items()
        if key in ("output", "result", "content") and isinstance(value, str | int | float | bool):
            return str(value)  # the client turns a tool's "391" into 391: show it as the tool said it
    return json.dumps(result, ensure_ascii=False)


def _declarations(tools: Any) -> list[dict[str, Any]]:
    """The ``functionDeclarations`` of all ``tools``, flattened (search and code tools are ignored)."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise _invalid("Invalid value at 'tools': expected a list of Tool.")
    found = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise _invalid(f"Invalid value at 'tools[{i}]': expected a Tool object.")
        for declaration in _get(tool, "functionDeclarations") or []:
            if not isinstance(declaration, dict) or not isinstance(declaration.get("name"), str):
                raise _invalid(f"* GenerateContentRequest.tools[{i}].function_declarations: name is required")
            found.append(declaration)
    return found


def _number(config: dict[str, Any], camel: str, kind: type, where: str) -> Any:
    value = _get(config, camel)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and value != int(value)):
        raise _invalid(
            f"Invalid value at 'generation_config.{where}' ({value!r}): expected a {kind.__name__}."
        )
    return kind(value)


def parse_request(
    model: str, body: Any, *, stream: bool = False, method: str = "generateContent"
) -> GenerateRequest:
    """Validate a ``generateContent``-shaped body into a :class:`GenerateRequest`."""
    if not isinstance(body, dict):
        raise _invalid("Invalid JSON payload received. Expected an object.")
    if method == "countTokens" and "generateContentRequest" in body:
        body = body["generateContentRequest"] or {}
    contents = body.get("contents")
    if not contents:
        raise _invalid("* GenerateContentRequest.contents: contents is not specified")
    if not isinstance(contents, list):
        raise _invalid("Invalid value at 'contents': expected a list of Content.")
    messages = []
    for i, content in enumerate(contents):
        text = _texts(content, f"contents[{i}]")
        results = _function_responses(content, f"contents[{i}]")
        if text or not results:
            messages.append((content.get("role") or "user", text))
        messages.extend(("tool", result) for result in results)
    system_raw = _get(body, "systemInstruction")
    system = _texts(system_raw, "system_instruction") if system_raw else ""

    config = _get(body, "generationConfig") or {}
    if not isinstance(config, dict):
        raise _invalid("Invalid value at 'generation_config': expected an object.")
    max_output = _number(config, "maxOutputTokens", int, "max_output_tokens")
    temperature = _number(config, "temperature", float, "temperature")
    if temperature is not None and not 0.0 <= temperature <= 2.0:
        raise _invalid(f"Unable to submit request because temperature must be in [0, 2]; got {temperature}.")
    mime = _get(config, "responseMimeType")
    schema = _get(config, "responseJsonSchema")
    legacy = _get(config, "responseSchema")
    if schema is not None and legacy is not None:
        raise _invalid("responseSchema and responseJsonSchema cannot both be set.")
    if legacy is not None:
        schema = from_openapi(legacy)
    if schema is not None and mime != "application/json":
        raise _invalid("A response schema requires responseMimeType 'application/json'.")
    if schema is not None and not isinstance(schema, dict):
        raise _invalid("Invalid value at 'generation_config.response_json_schema': expected an object.")

    thinking = _get(config, "thinkingConfig") or {}
    if not isinstance(thinking, dict):
        raise _invalid("Invalid value at 'generation_config.thinking_config': expected an object.")
    level = _get(thinking, "thinkingLevel")
    stops = _get(config, "stopSequences") or []
    tool_config = _get(body, "toolConfig")
    if tool_config is not None and not isinstance(tool_config, dict):
        raise _invalid("Invalid value at 'tool_config': expected an object.")
    return GenerateRequest(
        model=model,
        system=system,
        messages=messages,
        max_output_tokens=max_output,
        temperature=temperature,
        top_p=_number(config, "topP", float, "top_p"),
        stop_sequences=[s for s in stops if isinstance(s, str)],
        response_mime_type=mime,
        json_schema=schema,
        thinking_budget=_number(thinking, "thinkingBudget", int, "thinking_config.thinking_budget"),
        thinking_level=str(level).lower() if level is not None else None,
        include_thoughts=bool(_get(thinking, "includeThoughts", False)),
        stream=stream,
        method=method,
        generation_config=dict(config),
        tools=_declarations(_get(body, "tools")),
        tool_config=tool_config,
    )


def usage(prompt: int, candidates: int, thoughts: int = 0, cached: int = 0) -> dict[str, Any]:
    """``usageMetadata`` as Gemini sends it: zero counts omitted, cached tokens a subset of prompt."""
    meta: dict[str, Any] = {"promptTokenCount": prompt}
    if candidates:
        meta["candidatesTokenCount"] = candidates
    meta["totalTokenCount"] = prompt + candidates + thoughts
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    if cached:
        meta["cachedContentTokenCount"] = cached
    meta["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    return meta


def _body(
    request: GenerateRequest,
    response_id: str,
    text: str,
    finish: str | None,
    meta: dict,
    calls: Sequence[dict[str, Any]] = (),
) -> dict:
    content: dict[str, Any] = {"role": "model"}
    parts: list[dict[str, Any]] = [{"text": text}] if text else []
    parts += [{"functionCall": {"name": call["name"], "args": call.get("args") or {}}} for call in calls]
    if parts:
        content["parts"] = parts
    candidate: dict[str, Any] = {"content": content, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {
        "candidates": [candidate],
        "usageMetadata": meta,
        "modelVersion": request.model,
        "responseId": response_id,
    }


def render(request: GenerateRequest, gen: Generation, response_id: str) -> dict[str, Any]:
    """A complete ``GenerateContentResponse``."""
    meta = usage(gen.prompt_tokens, gen.output_tokens, gen.thoughts_tokens, gen.cached_tokens)
    return _body(request, response_id, gen.text, gen.finish_reason, meta, gen.tool_calls)


def render_stream(
    request: GenerateRequest, gen: Generation, response_id: str, tokens_per_chunk: int = 4
) -> Iterator[dict[str, Any]]:
    """The chunks of a ``streamGenerateContent`` answer.

    Like Gemini, every chunk carries *cumulative* usage (prompt and thoughts in full from the
    first chunk, candidates growing); langchain-google-genai subtracts the previous totals, so
    the per-chunk usage it reports sums to the non-streamed usage. The finish reason rides on
    the last chunk.
    """
    pieces = tokens.split(gen.text, tokens_per_chunk) if gen.text else [""]
    weights = [tokens.count_tokens(p) for p in pieces]
    total_weight = sum(weights) or 1
    seen = 0
    for i, piece in enumerate(pieces):
        seen += weights[i]
        last = i == len(pieces) - 1
        candidates = gen.output_tokens if last else gen.output_tokens * seen // total_weight
        meta = usage(gen.prompt_tokens, candidates, gen.thoughts_tokens, gen.cached_tokens)
        yield _body(
            request, response_id, piece, gen.finish_reason if last else None, meta, gen.tool_calls if last else ()
        )


def error_body(err: BackendError) -> dict[str, Any]:
    """Google's error envelope (``details`` only when there are some, as Google omits it)."""
    error: dict[str, Any] = {"code": err.code, "message": err.message, "status": err.status}
    if err.details:
        error["details"] = err.details
    return {"error": error}
