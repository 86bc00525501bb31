"""What every `tierwise` command shares on the terminal: warnings as one-line messages, and user errors as
`error: ...` with an exit code instead of a traceback. Its own module so sub-commands (batch, ...) don't import
the top-level CLI back."""

from __future__ import annotations

import logging
import sys
import warnings

import typer


def setup_output() -> None:
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s", stream=sys.stderr)
    # tierwise records an empty answer as a failed attempt and moves on; the client's own warning is noise here.
    logging.getLogger("langchain_google_genai").setLevel(logging.ERROR)
    warnings.formatwarning = lambda message, *args, **kwargs: f"warning: {message}\n"


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)
