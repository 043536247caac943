"""Typed errors raised by the library; the CLI maps each to one exit code.

Exit codes follow ../shared/docs/bad-inputs.md (sysexits-style), which cron users rely on:
0 ok, 1 unexpected, 2 usage, 65 bad input data, 66 input missing or unreadable,
73 cannot create an output, 74 I/O error while writing, 75 another run holds the lock,
69 the Dask cluster of `batch --cluster` cannot be reached.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_DATA = 65
EXIT_NO_INPUT = 66
EXIT_CANT_CREATE = 73
EXIT_IO = 74
EXIT_LOCKED = 75
EXIT_UNAVAILABLE = 69  # sysexits EX_UNAVAILABLE: the Dask cluster cannot be reached


class ForecastError(Exception):
    """Base of every error the user is meant to read; its message is shown as `Error: …`."""

    exit_code = EXIT_UNEXPECTED


class ConfigError(ForecastError):
    """An option or config-file value is invalid (names the parameter and the bad value)."""

    exit_code = EXIT_USAGE


class DataError(ForecastError):
    """The input data is unusable as it stands (names file, row, column and value)."""

    exit_code = EXIT_DATA


class InputMissingError(ForecastError):
    """An input file or directory does not exist or cannot be read."""

    exit_code = EXIT_NO_INPUT


class BundleError(ForecastError):
    """A model bundle is missing a file, was altered, or has an unknown format version."""

    exit_code = EXIT_DATA


class OutputError(ForecastError):
    """An output file or directory cannot be created."""

    exit_code = EXIT_CANT_CREATE


class WriteError(ForecastError):
    """Writing an output failed part-way (disk full, I/O error); nothing was replaced."""

    exit_code = EXIT_IO


class TrainingError(ForecastError):
    """Training diverged or produced a non-finite model; nothing was saved."""

    exit_code = EXIT_UNEXPECTED


class LockedError(ForecastError):
    """Another run holds the lock on this batch or job; retry later (temporary failure)."""

    exit_code = EXIT_LOCKED


class ClusterError(ForecastError):
    """The Dask scheduler cannot be reached, or no worker joined it (``batch --cluster``)."""

    exit_code = EXIT_UNAVAILABLE
