"""An optional key that signs a bundle's manifest (HMAC-SHA256), so that only its holders can
make a bundle this forecast accepts.

The key comes from the environment, never from a bundle or a command line (where ``ps`` and
shell histories would show it): ``FORECAST_BUNDLE_KEY`` holds the key itself,
``FORECAST_BUNDLE_KEY_FILE`` names a file holding it (its bytes; one trailing newline is
dropped), readable and writable by its owner only (``chmod 600``). Setting both is refused.

With a key, every bundle written is signed: the manifest gets ``"signature":
"hmac-sha256:<hex>"``, the HMAC of the manifest's canonical bytes (``canonical``: the manifest
without its signature, as JSON with sorted keys, no spaces, ASCII only). As the manifest holds
the sha256 of every file, the signature covers every file. Reading with a key refuses an
unsigned bundle and a bad signature; reading a signed bundle without a key checks the
checksums only, and says so. See docs/bundles.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from forecast_cli.errors import BundleError, ConfigError, InputMissingError

KEY_ENV = "FORECAST_BUNDLE_KEY"
KEY_FILE_ENV = "FORECAST_BUNDLE_KEY_FILE"
SIGNATURE = "signature"
SCHEME = "hmac-sha256:"
MIN_KEY_BYTES = 16
MAX_KEY_BYTES = 4096
_HOW = "make one with: python -c 'import secrets; print(secrets.token_hex(32))'"


def bundle_key(env: Mapping[str, str] | None = None) -> bytes | None:
    """The key from ``env`` (default ``os.environ``), or None when neither variable is set.

    ConfigError (exit 2) for an empty or short key, both variables set, or a key file others can
    read or write; InputMissingError (66) for a key file that cannot be read.
    """
    env = os.environ if env is None else env
    value, path = env.get(KEY_ENV), env.get(KEY_FILE_ENV)
    if value is not None and path is not None:
        raise ConfigError(f"{KEY_ENV} and {KEY_FILE_ENV} are both set; set one of them.")
    if path is not None:
        key, where = _read_key_file(Path(path)), f"{KEY_FILE_ENV} ({path})"
    elif value is not None:
        key, where = value.encode("utf-8"), KEY_ENV
    else:
        return None
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(f"the bundle key in {where} has {len(key)} bytes; it needs at least "
                          f"{MIN_KEY_BYTES} ({_HOW}).")
    return key


def _read_key_file(path: Path) -> bytes:
    if not str(path):
        raise ConfigError(f"{KEY_FILE_ENV} is set but empty; name the key file.")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputMissingError(f"{path}: bundle key file ({KEY_FILE_ENV}) cannot be read "
                                f"({exc.strerror}).") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputMissingError(f"{path}: bundle key file ({KEY_FILE_ENV}) is not a "
                                    "regular file.")
        if info.st_mode & 0o077:
            raise ConfigError(f"{path}: bundle key file ({KEY_FILE_ENV}) can be read or "
                              f"written by others (mode {stat.S_IMODE(info.st_mode):o}); "
                              f"restrict it to its owner: chmod 600 {path}")
        if info.st_size > MAX_KEY_BYTES:
            raise ConfigError(f"{path}: bundle key file ({KEY_FILE_ENV}) holds "
                              f"{info.st_size:,} bytes; a key has at most {MAX_KEY_BYTES:,}.")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(MAX_KEY_BYTES + 1)
    finally:
        os.close(fd)
    return raw[:-2] if raw.endswith(b"\r\n") else raw.removesuffix(b"\n")


def canonical(manifest: Mapping[str, Any]) -> bytes:
    """The bytes signed: the manifest without its signature, sorted keys, no spaces, ASCII."""
    body = {k: v for k, v in manifest.items() if k != SIGNATURE}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def sign(manifest: Mapping[str, Any], key: bytes) -> str:
    """``"hmac-sha256:<hex>"`` of ``canonical(manifest)``."""
    return SCHEME + hmac.new(key, canonical(manifest), hashlib.sha256).hexdigest()


def verify(manifest: Mapping[str, Any], key: bytes | None, shown: Path) -> list[str]:
    """Check the manifest's signature against ``key``; the warnings to show (none, or that a
    signed bundle was read without a key). BundleError (65) when a key is set and the bundle
    is unsigned or its signature does not match."""
    signature = manifest.get(SIGNATURE)
    if key is None:
        if signature is None:
            return []
        return [f"{shown}: the bundle is signed, but no bundle key is set ({KEY_ENV} or "
                f"{KEY_FILE_ENV}): its signature was not checked, only its checksums."]
    if signature is None:
        raise BundleError(f"{shown}: the bundle is not signed, and a bundle key is set: only "
                          "bundles signed with that key are accepted. Retrain the model with "
                          f"the key set, or unset {KEY_ENV} and {KEY_FILE_ENV} to accept "
                          "unsigned bundles.")
    if not isinstance(signature, str) or not hmac.compare_digest(
            signature.encode("utf-8", "replace"), sign(manifest, key).encode("ascii")):
        raise BundleError(f"{shown}: the manifest's signature does not match the bundle key: "
                          "the bundle was altered, or signed with another key. Restore it, or "
                          "retrain the model with this key.")
    return []
