"""A bundle's files on disk: listed, regular, bounded in size, read once and parsed strictly.

Every entry of the bundle directory must be a regular file that the manifest lists (or the
manifest itself): an unlisted file (say ``model.onnx.data``, external tensor data that ONNX
Runtime would load from beside the graph without any checksum), a directory, a named pipe or a
symbolic link (even one named like a listed file) is refused. Files are opened with
``O_NOFOLLOW``, so a link swapped in after the listing is refused too.

JSON is parsed strictly: no ``NaN``/``Infinity``, no number that overflows a float (``1e999``),
no key twice, at most ``MAX_DEPTH`` levels of nesting (counted before parsing, so no
``RecursionError``), and files no larger than their limit (checked before reading).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

from forecast_cli.errors import BundleError

MAX_ENTRIES = 64  # entries of a bundle directory: it holds six files
MAX_MANIFEST_BYTES = 1 << 20
MAX_JSON_BYTES = 256 << 20  # config.json / intervals.json of a model of many series
MAX_ONNX_BYTES = 2 << 30  # protobuf's limit: larger exports need external data, refused
MAX_WEIGHTS_BYTES = 16 << 30  # far above a network within checks.LIMITS that trains
MAX_DEPTH = 32  # nesting of JSON arrays and objects; a bundle's files need 7

_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"),
          (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception's message on one line, at most ``limit`` characters (for ``Error: …``)."""
    return " ".join(str(exc).split())[:limit] or type(exc).__name__


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def entries(root: Path, shown: Path) -> dict[str, int]:
    """name → ``lstat`` mode of every entry of the bundle directory ``root``."""
    found: dict[str, int] = {}
    try:
        with os.scandir(root) as it:
            for entry in it:
                if len(found) == MAX_ENTRIES:
                    raise BundleError(f"{shown}: holds more than {MAX_ENTRIES} entries; a "
                                      "model bundle holds only the files its manifest lists.")
                found[entry.name] = entry.stat(follow_symlinks=False).st_mode
    except OSError as exc:
        raise BundleError(f"{shown}: cannot list the bundle directory ({exc.strerror}).") from None
    return found


def check_entries(found: dict[str, int], listed: set[str], shown: Path) -> None:
    """Every entry a regular file the manifest lists; every listed file present."""
    for name in sorted(found):
        if not stat.S_ISREG(found[name]):
            raise BundleError(f"{shown}: {name} is {_kind(found[name])}; a model bundle holds "
                              "regular files only. Remove it, or restore the bundle.")
        if name not in listed:
            raise BundleError(f"{shown}: {name} is not listed in manifest.json; a model bundle "
                              "holds only the files its manifest lists. Remove it, or restore "
                              "the bundle.")
    for name in sorted(listed - set(found)):
        raise BundleError(f"{shown}: {name} is missing.")


def _open(path: Path, shown: Path) -> int:
    """A read-only descriptor of the regular file ``path``, never through a symbolic link."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise BundleError(f"{shown}: {path.name} is missing.") from None
    except OSError as exc:  # ELOOP: a symbolic link
        mode = os.lstat(path).st_mode if os.path.lexists(path) else 0
        what = _kind(mode) if mode and not stat.S_ISREG(mode) else exc.strerror
        raise BundleError(f"{shown}: {path.name} cannot be read ({what}).") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise BundleError(f"{shown}: {path.name} is {_kind(mode)}; a model bundle holds "
                          "regular files only.")
    return fd


def _too_big(path: Path, shown: Path, size: int, limit: int) -> BundleError:
    return BundleError(f"{shown}: {path.name} holds {size:,} bytes, more than the "
                       f"{limit:,} a bundle's {path.name} may hold.")


def read_bytes(path: Path, shown: Path, limit: int) -> bytes:
    """The whole file, refused before reading when larger than ``limit`` bytes."""
    fd = _open(path, shown)
    try:
        size = os.fstat(fd).st_size
        if size > limit:
            raise _too_big(path, shown, size, limit)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise BundleError(f"{shown}: {path.name} cannot be read ({exc.strerror}).") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # grew while being read
        raise _too_big(path, shown, len(data), limit)
    return data


def sha256_stream(path: Path, shown: Path, limit: int) -> tuple[str, int]:
    """(sha256 hex digest, size in bytes) of a file too large to keep in memory; refused
    before reading when larger than ``limit`` bytes."""
    digest, size = hashlib.sha256(), 0
    fd = _open(path, shown)
    try:
        if os.fstat(fd).st_size > limit:
            raise _too_big(path, shown, os.fstat(fd).st_size, limit)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    except OSError as exc:
        raise BundleError(f"{shown}: {path.name} cannot be read ({exc.strerror}).") from None
    finally:
        os.close(fd)
    return digest.hexdigest(), size


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_PAIR = re.compile(rb"\[\]|\{\}")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects deeper than ``limit`` (or is unbalanced).

    Strings are dropped, then every innermost ``[]``/``{}`` pair is removed once per level:
    ``limit`` passes of C-speed substitutions, no recursion.
    """
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = _PAIR.sub(b"", brackets)
    return bool(brackets)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} overflows a float")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key[:60]!r} appears twice")
        out[key] = value
    return out


def parse_json(raw: bytes, name: str, shown: Path) -> dict[str, Any]:
    """A JSON object from ``raw``, parsed strictly (see the module docstring)."""
    try:
        if too_deep(raw):
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels, or unbalanced")
        parsed = json.loads(raw.decode("utf-8"), parse_constant=_no_constant,
                            parse_float=_finite, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError, JSONDecodeError too
        raise BundleError(f"{shown}: {name} is unreadable or not JSON ({one_line(exc, 200)}).") \
            from None
    if not isinstance(parsed, dict):
        raise BundleError(f"{shown}: {name} is not a JSON object.")
    return parsed
