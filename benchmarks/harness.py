"""What the benchmarks share: a scratch ledger, and the emulator in its own process (in-process, its threads would
compete with the client for the GIL and blur what is measured)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path


def scratch_dir(no_ledger: bool = False) -> Path:
    """A temporary folder whose ledger the run writes to (never yours); `no_ledger` turns persistence off."""
    scratch = Path(tempfile.mkdtemp(prefix="tierwise-bench-"))
    os.environ["TIERWISE_LEDGER_URL"] = f"sqlite:///{scratch}/ledger.db"
    if no_ledger:
        os.environ["TIERWISE__LEDGER__ENABLED"] = "false"
    return scratch


@contextlib.contextmanager
def emulator_process(scratch: str | Path, rules: list[dict], faults: str | None = None,
                     options: list[str] = ()) -> Iterator[str]:
    """`tierwise emulator` serving `rules` (and injecting `faults`, a compact spec; with more command-line
    `options`, e.g. --latency) on a free port; yields its URL."""
    path = Path(scratch) / "rules.json"
    path.write_text(json.dumps(rules))
    command = [sys.executable, "-m", "tierwise.cli", "emulator", "--port", "0", "--script", str(path)]
    proc = subprocess.Popen([*command, *(["--faults", faults] if faults else []), *options], stderr=subprocess.PIPE,
                            text=True)
    try:
        seen = ""
        for _ in range(5):  # a fault spec is announced on its own line before the URL
            line = proc.stderr.readline()
            seen += line
            match = re.search(r"on (http://\S+)", line)
            if match:
                yield match.group(1)
                return
        raise SystemExit(f"the emulator did not start: {seen}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def bare_models(base_url: str):
    """The bare baseline's triage, draft and judge models: ChatGoogleGenerativeAI with LangChain's structured output,
    as a hand-written graph would use them (same model ids and schemas as tierwise's stages)."""
    from langchain_google_genai import ChatGoogleGenerativeAI

    from tierwise.state import Draft, Score, Triage

    def model(name):
        return ChatGoogleGenerativeAI(model=name, google_api_key="emulator", base_url=base_url, vertexai=False)

    lite, flash = model("gemini-3.5-flash-lite"), model("gemini-3.8-flash")
    return (lite.with_structured_output(Triage, method="json_schema"),
            lite.with_structured_output(Draft, method="json_schema"),
            flash.with_structured_output(Score, method="json_schema"))
