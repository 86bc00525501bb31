"""Run worker scripts as separate processes that start their work together."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_together(script: Path, argvs: list[list[str]], timeout: float = 120) -> list[str]:
    """Start one process per argv, wait until each has printed "ready", release them all, return their stdout."""
    procs = [subprocess.Popen([sys.executable, str(script), *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for argv in argvs]
    try:
        for proc in procs:
            line = proc.stdout.readline()
            assert line == "ready\n", f"{script.name} did not start: {line!r} {proc.stderr.read() if not line else ''}"
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = []
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            assert proc.returncode == 0, err
            outputs.append(out)
        return outputs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
