"""Only regular files are read as data or written as outputs, and no output overwrites its
input (issue 14's first point). A named pipe as data used to hang forever (holding a batch's
lock); a device node, a pipe or a symbolic link as ``--out`` was replaced by a regular file.
Real subprocesses; every special file lives in the test's own directory. A batch job whose
output is its own data fails alone: test_batch_cli.py's bad-jobs test (its batch trains good
jobs beside it, so it is one batch for both kinds of bad job)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import run_forecast

QUICK = 60  # seconds: a refusal is immediate; a hang would run into this


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", ["validate", "train"])
def test_a_named_pipe_as_data_is_refused_at_once(tmp_path: Path, command: str) -> None:
    pipe = _fifo(tmp_path / "data.csv")
    proc = run_forecast(command, pipe, "-o", tmp_path / "out", timeout=QUICK) \
        if command == "train" else run_forecast(command, pipe, timeout=QUICK)
    assert proc.returncode == 66
    assert proc.stderr.strip().splitlines()[-1] == (
        f"Error: {pipe}: is a named pipe (FIFO), not a regular file; forecast reads data "
        "from regular files only.")
    assert not (tmp_path / "out").exists()


def test_a_named_pipe_as_config_is_refused_at_once(tiny_model: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    pipe = _fifo(tmp_path / "settings.toml")
    proc = run_forecast("validate", tiny_model[0], "--config", pipe, timeout=QUICK)
    assert proc.returncode == 66
    assert f"{pipe}: config file is not a regular file." in proc.stderr


def test_predict_refuses_a_pipe_a_link_or_a_device_as_out(tiny_model: tuple[Path, Path],
                                                          tmp_path: Path) -> None:
    data, model = tiny_model
    target = tmp_path / "kept.csv"
    target.write_text("keep me\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    outs = {_fifo(tmp_path / "pipe.csv"): "a named pipe (FIFO)", link: "a symbolic link"}
    try:  # a null device node of our own (root only): replacing it would harm nothing
        os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        outs[tmp_path / "null"] = "a character device"
    except PermissionError:
        pass
    for out, kind in outs.items():
        proc = run_forecast("predict", "-m", model, data, "--out", out, timeout=QUICK)
        assert proc.returncode == 73, (out, proc.stderr)
        assert proc.stdout == ""
        assert proc.stderr.strip() == (f"Error: {out}: is {kind}, not a regular file; "
                                       "forecast writes only regular files. Name a file path "
                                       "instead.")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe.csv").st_mode)
    assert link.is_symlink()
    assert target.read_text() == "keep me\n"
    if tmp_path / "null" in outs:
        assert stat.S_ISCHR(os.lstat(tmp_path / "null").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["kept.csv", "link.csv", "pipe.csv", *(["null"] if tmp_path / "null" in outs else [])])


def test_predict_refuses_to_write_over_its_input(tiny_model: tuple[Path, Path]) -> None:
    data, model = tiny_model
    before = data.read_bytes()
    proc = run_forecast("predict", "-m", model, data, "--out", data, timeout=QUICK)
    assert proc.returncode == 73
    assert proc.stderr.strip() == (f"Error: {data}: is the input file {data}; writing there "
                                   "would destroy the data. Name another output file.")
    assert data.read_bytes() == before


def test_predict_never_writes_inside_a_bundle(tiny_model: tuple[Path, Path],
                                             tmp_path: Path) -> None:
    data, model = tiny_model
    before = {p.name: p.read_bytes() for p in model.iterdir()}
    for out, flag in ((model / "config.json", "--out"), (model / "new.csv", "--out"),
                      (model / "figure.png", "--plot")):
        proc = run_forecast("predict", "-m", model, data, flag, out, timeout=QUICK)
        assert proc.returncode == 73, proc.stderr
        assert f"{out}: is inside a model bundle" in proc.stderr
    assert {p.name: p.read_bytes() for p in model.iterdir()} == before
