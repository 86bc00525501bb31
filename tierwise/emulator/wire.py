"""Gemini REST wire format: JSON bodies in, JSON bodies out.

Pure functions with no I/O, so the translation is testable without sockets. Field names follow
the ``v1beta`` REST API as google-genai sends it (camelCase); snake_case is accepted too because
the real API accepts both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

from . import tokens
from .backend import BackendError, GenerateRequest, Generation
from .catalogue import modality_of
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


_URLSAFE = str.maketrans("-_", "+/")


def _media(content: Any, found: dict[str, int]) -> None:
    """Add the prompt tokens of ``content``'s inlineData / fileData parts to ``found`` (by modality)."""
    if not isinstance(content, dict):
        return
    for part in content.get("parts") or []:
        if not isinstance(part, dict):
            continue
        inline, linked = _get(part, "inlineData"), _get(part, "fileData")
        media = inline if isinstance(inline, dict) else linked if isinstance(linked, dict) else None
        if media is None:
            continue
        modality = modality_of(str(_get(media, "mimeType") or ""))
        data = None
        if media is inline:
            try:
                # proto3 JSON bytes: standard or URL-safe base64, padded or not (google-genai sends URL-safe)
                raw = str(media.get("data") or "").translate(_URLSAFE)
                data = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
            except (binascii.Error, ValueError):
                raise _invalid("Invalid value at 'contents.parts.inline_data.data' (TYPE_BYTES): "
                               "not valid base64.") from None
        found[modality] = found.get(modality, 0) + tokens.media_tokens(modality, data)


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


def _call_signatures(contents: list[Any]) -> list[str | None]:
    """The ``thoughtSignature`` of each model content's first ``functionCall`` part (None: unsigned)."""
    found: list[str | None] = []
    for content in contents:
        if not isinstance(content, dict) or content.get("role") != "model":
            continue
        parts = [p for p in content.get("parts") or [] if isinstance(p, dict)]
        first = next((p for p in parts if _get(p, "functionCall") is not None), None)
        if first is not None:
            found.append(_get(first, "thoughtSignature") or None)
    return found


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


def _binds_search(tools: Any) -> bool:
    """Whether a ``googleSearch`` tool is bound (the model may then ground its answer on Google Search)."""
    return isinstance(tools, list) and any(isinstance(t, dict) and _get(t, "googleSearch") is not None
                                           for t in tools)


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
    media: dict[str, int] = {}
    for content in [*contents, system_raw]:
        _media(content, media)
    tier = _get(body, "serviceTier")

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
        media_tokens=media,
        service_tier=str(tier).lower().removeprefix("service_tier_") if tier else None,
        cached_content=_get(body, "cachedContent"),
        call_signatures=_call_signatures(contents),
        google_search=_binds_search(_get(body, "tools")),
        continuation_token=_get(body, "continuationToken"),
    )


def prompt_details(prompt: int, media: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """``promptTokensDetails``: media tokens by modality, the rest of the prompt as TEXT."""
    media = {m: n for m, n in (media or {}).items() if n}
    text = prompt - sum(n for m, n in media.items() if m != "TEXT")
    counts = {"TEXT": max(text, 0), **{m: n for m, n in media.items() if m != "TEXT"}}
    return [{"modality": m, "tokenCount": n} for m, n in counts.items() if n or m == "TEXT"]


def usage(
    prompt: int, candidates: int, thoughts: int = 0, cached: int = 0, media: dict[str, int] | None = None
) -> dict[str, Any]:
    """``usageMetadata`` as Gemini sends it: zero counts omitted, cached tokens a subset of prompt."""
    meta: dict[str, Any] = {"promptTokenCount": prompt}
    if candidates:
        meta["candidatesTokenCount"] = candidates
    meta["totalTokenCount"] = prompt + candidates + thoughts
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    if cached:
        meta["cachedContentTokenCount"] = cached
    meta["promptTokensDetails"] = prompt_details(prompt, media)
    return meta


def thought_signature(response_id: str) -> str:
    """An opaque base64 ``thoughtSignature`` (Gemini 3 puts one on an answer's last part)."""
    return base64.b64encode(hashlib.sha256(f"tierwise-emulator/{response_id}".encode()).digest() * 2).decode()


def _body(
    request: GenerateRequest,
    response_id: str,
    text: str,
    finish: str | None,
    meta: dict,
    calls: Sequence[dict[str, Any]] = (),
    signature: bool = False,
) -> dict:
    content: dict[str, Any] = {"role": "model"}
    parts: list[dict[str, Any]] = [{"text": text}] if text else []
    parts += [{"functionCall": {"name": call["name"], "args": call.get("args") or {}}} for call in calls]
    # Gemini 3 signs the first functionCall part (parallel calls: only that one); an answer without function
    # calls carries its signature on the LAST part (Google's thought-signatures page)
    if parts and signature:
        parts[len(parts) - len(calls) if calls else len(parts) - 1]["thoughtSignature"] = thought_signature(response_id)
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


def blocked(request: GenerateRequest, prompt_tokens: int, reason: str, response_id: str) -> dict[str, Any]:
    """A prompt Gemini refused to answer: ``promptFeedback.blockReason``, no candidates, prompt usage only."""
    feedback: dict[str, Any] = {"blockReason": reason}
    if reason == "SAFETY":
        feedback["safetyRatings"] = [
            {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
            {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
            {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
        ]
    meta = {
        "promptTokenCount": prompt_tokens,
        "totalTokenCount": prompt_tokens,
        "promptTokensDetails": prompt_details(prompt_tokens, request.media_tokens),
    }
    return {"promptFeedback": feedback, "usageMetadata": meta, "modelVersion": request.model, "responseId": response_id}


def render(request: GenerateRequest, gen: Generation, response_id: str, *, signature: bool = False) -> dict[str, Any]:
    """A complete ``GenerateContentResponse`` (``signature``: a Gemini 3 ``thoughtSignature`` on the first
    functionCall part, else on the last part)."""
    if gen.block_reason:
        return blocked(request, gen.prompt_tokens, gen.block_reason, response_id)
    meta = usage(gen.prompt_tokens, gen.output_tokens, gen.thoughts_tokens, gen.cached_tokens, request.media_tokens)
    body = _body(request, response_id, gen.text, gen.finish_reason, meta, gen.tool_calls, signature)
    return _grounded(body, gen)


def _grounded(body: dict[str, Any], gen: Generation) -> dict[str, Any]:
    """The Google Search queries the model ran, as ``groundingMetadata.webSearchQueries`` (Gemini 3 bills each),
    and the ``continuationToken`` of an answer that goes on in a next request."""
    if gen.search_queries:
        body["candidates"][0]["groundingMetadata"] = {"webSearchQueries": list(gen.search_queries)}
    if gen.continuation_token:
        body["candidates"][0]["continuationToken"] = gen.continuation_token
    return body


def render_stream(
    request: GenerateRequest, gen: Generation, response_id: str, tokens_per_chunk: int = 4, *, signature: bool = False
) -> Iterator[dict[str, Any]]:
    """The chunks of a ``streamGenerateContent`` answer.

    Like Gemini, every chunk carries *cumulative* usage (prompt and thoughts in full from the
    first chunk, candidates growing); langchain-google-genai subtracts the previous totals, so
    the per-chunk usage it reports sums to the non-streamed usage. The finish reason rides on
    the last chunk.
    """
    if gen.block_reason:
        yield blocked(request, gen.prompt_tokens, gen.block_reason, response_id)
        return
    pieces = tokens.split(gen.text, tokens_per_chunk) if gen.text else [""]
    weights = [tokens.count_tokens(p) for p in pieces]
    total_weight = sum(weights) or 1
    seen = 0
    for i, piece in enumerate(pieces):
        seen += weights[i]
        last = i == len(pieces) - 1
        candidates = gen.output_tokens if last else gen.output_tokens * seen // total_weight
        meta = usage(gen.prompt_tokens, candidates, gen.thoughts_tokens, gen.cached_tokens, request.media_tokens)
        calls = gen.tool_calls if last else ()
        signed = signature and last  # the function call (last chunk) or the answer's last part
        body = _body(request, response_id, piece, gen.finish_reason if last else None, meta, calls, signed)
        yield _grounded(body, gen) if last else body


def error_body(err: BackendError) -> dict[str, Any]:
    """Google's error envelope (``details`` only when there are some, as Google omits it)."""
    error: dict[str, Any] = {"code": err.code, "message": err.message, "status": err.status}
    if err.details:
        error["details"] = err.details
    return {"error": error}
