"""Child process for test_journal: one stage call, report its record, then die by SIGKILL before the ledger's
writer thread may commit it (the writer is held), so only the journal can bring the record back."""

from __future__ import annotations

import os
import signal
import sys
import threading

from tierwise import Context, call_stage
from tierwise.emulator import Emulator, ScriptedBackend
from tierwise.ledger import SQLiteLedger

held = threading.Event()


def never_commit(self, entries):  # the writer thread blocks here: nothing reaches SQLite from this process
    held.wait()


SQLiteLedger.record_many = never_commit

with Emulator(ScriptedBackend([{"system": ".", "reply": {"answer": "ok", "confidence": "high"}}])) as emulator:
    result = call_stage("draft", [("system", "answer requests briefly"), ("user", sys.argv[1])],
                        context=Context(base_url=emulator.base_url), labels={"request_id": "killed-request"})
    print(result.record.call_id, flush=True)  # the caller has seen it
    os.kill(os.getpid(), signal.SIGKILL)
