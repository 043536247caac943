"""The one gate between the library and the shell: typed errors become `Error: …` and exit codes.

``forecast_cli.errors`` gives every error the user is meant to read its exit code; ``gated``
wraps each command (``app.py`` applies it to all of them), so a command just calls the library
and renders. Anything else that escapes a command is a bug of ours and exits 1.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import typer

from forecast_cli.errors import EXIT_UNEXPECTED, ForecastError
from forecast_cli.io import stdin

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


def error(text: str) -> None:
    """One ``Error: …`` line on stderr (also what ``batch`` prints per failed job)."""
    sys.stderr.write(f"Error: {text.rstrip()}\n")


def leave(code: int) -> None:
    """End a failed run now, without interpreter finalization.

    After the ``Error:`` line nothing is left to do: every output is atomic, so it is complete
    or was never there. Finalization, though, destroys native libraries' state while their
    worker threads may still run (a pyarrow reader's read-ahead): under load it sometimes
    aborted the process (``terminate called without an active exception``, SIGABRT) and
    turned a documented exit 65 into -6.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def gated(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` with library errors mapped to their exit codes (Typer's own pass through)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except ForecastError as exc:
            error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # an exit code or a usage error Typer reports itself
        except KeyboardInterrupt:
            error("interrupted; outputs that were already complete are kept.")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:  # a bug of ours: say so, keep the traceback for FORECAST_DEBUG
            if os.environ.get("FORECAST_DEBUG"):
                traceback.print_exc()
            error(f"unexpected failure ({type(exc).__name__}: {exc}). "
                  "Set FORECAST_DEBUG=1 for the traceback.")
            raise typer.Exit(EXIT_UNEXPECTED) from None
        finally:  # before ``leave``, which skips the exit handlers
            stdin.remove()  # the copy of standard input (data ``-``), if one was made

    return run
