"""A Gemini API emulator on loopback, so pipelines run and get tested with the real client.

``ChatGoogleGenerativeAI(model=..., google_api_key="emulator", base_url=emu.base_url)`` talks to
it exactly as to Google. Answers come from a backend: :class:`ScriptedBackend` (rules, for tests
and demos) or :class:`LocalBackend` (SmolLM2 via llama.cpp). :class:`Faults` (or
:func:`parse_faults`) makes chosen calls fail the ways Gemini does, over any backend. Importing
this package pulls in neither llama_cpp, google.genai nor langchain.

The emulator is strict by default: it refuses, with Gemini's status and message, what Gemini refuses
(models and limits from the registry's catalogue; ``strict=False`` for odd clients). It can also record
an upstream's answers and replay them (``record=`` / ``replay=``), and it serves Vertex AI's REST paths.
"""

import logging

from .backend import Backend, BackendError, GenerateRequest, Generation
from .batches import BatchSettings
from .catalogue import ModelLimits, build_catalogue
from .faults import KINDS as FAULT_KINDS
from .faults import Fault, Faults, FaultSpecError
from .faultspec import load_faults, parse_faults
from .latency import LatencyModel, ModelLatency
from .local import LocalBackend, LocalBackendUnavailable
from .record import Cassette
from .rules import EmulatorRuleError, Rule
from .scripted import ScriptedBackend
from .server import Emulator, serve
from .tokens import count_tokens

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Backend",
    "BackendError",
    "BatchSettings",
    "Cassette",
    "Emulator",
    "FAULT_KINDS",
    "Fault",
    "FaultSpecError",
    "Faults",
    "GenerateRequest",
    "Generation",
    "LocalBackend",
    "LatencyModel",
    "LocalBackendUnavailable",
    "ModelLatency",
    "ModelLimits",
    "Rule",
    "EmulatorRuleError",
    "ScriptedBackend",
    "build_catalogue",
    "count_tokens",
    "load_faults",
    "parse_faults",
    "serve",
]
