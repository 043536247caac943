"""Reading a TOML file (a ``--config`` file, a batch file) with forecast's errors: a missing or
non-regular file is InputMissingError (66), bad TOML a ConfigError (2). Imports no layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from forecast_cli.errors import ConfigError, InputMissingError


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """Parse a TOML file; ``what`` ("config file", "batch file") names it in the errors."""
    import stat
    import tomllib  # here, not at import: `forecast --help` imports this module

    try:
        if path.exists() and not stat.S_ISREG(path.stat().st_mode):  # a FIFO would hang
            raise InputMissingError(f"{path}: {what} is not a regular file.")
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputMissingError(f"{path}: {what} not found.") from None
    except OSError as exc:
        raise InputMissingError(f"{path}: cannot read {what} ({exc.strerror}).") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:  # too deep
        raise ConfigError(f"{path}: not valid TOML ({exc}).") from None
