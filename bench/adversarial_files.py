"""Adversarial cases about files: hangs, destroyed outputs, bad data, tampered bundles.

Each reads as: what is built, the command, what must come out (see ``adversarial_base``).
"""

from __future__ import annotations

import gzip
import json
import os
import random
from datetime import date
from pathlib import Path

from bench.adversarial_base import (
    HANG_TIMEOUT,
    TINY,
    TRAIN_TIMEOUT,
    Broken,
    Ctx,
    Proc,
    case,
    edit_json,
    expect,
    rehash,
    series_csv,
    series_rows,
    simple,
    snapshot,
    unchanged,
)

PREDICT = ("predict", "--model", "run/model", "data.csv")
NOT_REGULAR = ("regular file", "fifo", "pipe", "device", "symbolic link", "symlink")


def _base(ctx: Ctx) -> None:
    ctx.base()


def _base_and_model(ctx: Ctx) -> None:
    ctx.base()
    ctx.run_dir()


def _fifo_data(ctx: Ctx) -> None:
    ctx.fifo("data.csv")
    ctx.run_dir()


# --- hangs: each must be refused at once ------------------------------------------------------

for command in ("validate", "predict", "evaluate", "train", "backtest"):
    args = ("validate", "data.csv") if command == "validate" else (
        (command, "--model", "run/model", "data.csv") if command in ("predict", "evaluate")
        else (command, "data.csv", *TINY))
    simple("hangs", f"{command}-data-is-a-fifo", args, (66,), ["data.csv", NOT_REGULAR],
           setup=_fifo_data, timeout=HANG_TIMEOUT)

simple("hangs", "train-config-is-a-fifo", ("train", "data.csv", "--config", "c.toml"), (66,),
       ["c.toml", NOT_REGULAR], setup=lambda c: (c.base(), c.fifo("c.toml")),
       timeout=HANG_TIMEOUT)
simple("hangs", "validate-data-links-to-dev-zero", ("validate", "data.csv"), (66,),
       ["data.csv", NOT_REGULAR], setup=lambda c: os.symlink("/dev/zero", c.d / "data.csv"),
       timeout=HANG_TIMEOUT)
simple("hangs", "validate-data-is-a-symlink-loop", ("validate", "data.csv"), (66,), ["data.csv"],
       setup=lambda c: (os.symlink("b.csv", c.d / "data.csv"),
                        os.symlink("data.csv", c.d / "b.csv")),
       timeout=HANG_TIMEOUT)
simple("hangs", "backtest-1000-folds-on-120-rows",
       ("backtest", "data.csv", *TINY, "--folds", "1000"),
       (2, 65), ["fold"], setup=_base, timeout=HANG_TIMEOUT)
simple("hangs", "backtest-fold-step-ten-million",
       ("backtest", "data.csv", *TINY, "--folds", "3", "--fold-step", "10000000"), (2, 65),
       ["fold"], setup=_base, timeout=HANG_TIMEOUT)
simple("hangs", "train-lookback-99999-on-120-rows", ("train", "data.csv", *TINY[2:], "--lookback",
       "99999"), (2, 65), ["lookback"], setup=_base, timeout=HANG_TIMEOUT)
simple("hangs", "train-horizon-9999-on-120-rows", ("train", "data.csv", *TINY[:2], *TINY[4:],
       "--horizon", "9999"), (2, 65), ["horizon"], setup=_base, timeout=HANG_TIMEOUT)
simple("hangs", "train-season-100000", ("train", "data.csv", *TINY, "--season", "100000"),
       (2, 65), ["season"], setup=_base, timeout=HANG_TIMEOUT)
simple("hangs", "validate-freq-1ns-on-daily-data", ("validate", "data.csv", "--freq", "1ns"),
       (2, 65), [("freq", "frequency", "step")], setup=_base, timeout=HANG_TIMEOUT)
simple("hangs", "validate-freq-1s-fill-on-daily-data",
       ("validate", "data.csv", "--freq", "1s", "--fill", "interpolate"), (2, 65),
       [("freq", "frequency", "missing", "gap", "fill")], setup=_base, timeout=HANG_TIMEOUT)
simple("hangs", "validate-two-rows-8000-years-apart-filled",
       ("validate", "data.csv", "--freq", "D", "--fill", "ffill"), (65,),
       [("gap", "missing", "fill", "rows")],
       setup=lambda c: c.write("data.csv", "timestamp,value\n1900-01-01,1\n9900-01-01,2\n"),
       timeout=HANG_TIMEOUT)
simple("hangs", "validate-one-20-mb-line", ("validate", "data.csv"), (65,),
       [("line 2", "too long", "line")],
       setup=lambda c: c.write("data.csv",
                               "timestamp,value\n2020-01-01," + "9" * 20_000_000 + "\n"),
       timeout=HANG_TIMEOUT)
simple("hangs", "validate-100000-columns", ("validate", "data.csv", "--target", "c7"), (0, 65),
       setup=lambda c: c.write("data.csv", "timestamp," + ",".join(f"c{i}" for i in range(100_000))
                               + "\n" + "".join(f"2020-01-{d:02d}," + ",".join(["1"] * 100_000)
                                                 + "\n" for d in range(1, 4))),
       timeout=HANG_TIMEOUT)
simple("hangs", "validate-time-format-of-10000-directives",
       ("validate", "data.csv", "--time-format", "%Y" * 10_000), (2, 65), ["time"],
       setup=_base, timeout=HANG_TIMEOUT)


def _state_node(name: str, kind: str):  # type: ignore[no-untyped-def]
    def setup(ctx: Ctx) -> None:
        batch = ctx.batch()
        path = batch.parent / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        else:
            path.write_bytes(os.urandom(4096))
    return setup


simple("hangs", "batch-log-is-a-fifo", ("batch", "b/batch.toml"), (73, 74), ["batch.log"],
       setup=_state_node(".forecast-state/batch.log", "fifo"), timeout=HANG_TIMEOUT, batch=True)
simple("hangs", "batch-history-is-a-fifo", ("batch", "b/batch.toml"), (73, 74), ["history"],
       setup=_state_node(".forecast-state/history.sqlite", "fifo"), timeout=HANG_TIMEOUT,
       batch=True)
simple("hangs", "history-command-on-a-fifo-history", ("history", "b/batch.toml"), (65, 66, 73, 74),
       ["history"], setup=_state_node(".forecast-state/history.sqlite", "fifo"),
       timeout=HANG_TIMEOUT, batch=True)
simple("hangs", "batch-current-pointer-is-a-fifo", ("batch", "b/batch.toml"), (1,),
       ["current"], setup=_state_node("models/daily/current", "fifo"), timeout=HANG_TIMEOUT,
       batch=True)
simple("hangs", "batch-job-data-is-a-fifo", ("batch", "b/batch.toml"), (1,),
       ["job 'daily'", NOT_REGULAR], setup=_state_node("daily.csv", "fifo"),
       timeout=HANG_TIMEOUT, batch=True)
simple("hangs", "batch-file-is-a-fifo", ("batch", "jobs.toml"), (66,), ["jobs.toml", NOT_REGULAR],
       setup=lambda c: c.fifo("jobs.toml"), timeout=HANG_TIMEOUT)
simple("hangs", "predict-bundle-config-is-a-fifo", PREDICT, (65, 66), ["config.json"],
       setup=lambda c: (c.base(), (c.model() / "config.json").unlink(),
                        os.mkfifo(c.d / "run/model/config.json")), timeout=HANG_TIMEOUT)
simple("hangs", "predict-bundle-onnx-links-to-dev-zero", PREDICT, (65,), ["model.onnx"],
       setup=lambda c: (c.base(), (c.model() / "model.onnx").unlink(),
                        os.symlink("/dev/zero", c.d / "run/model/model.onnx")),
       timeout=HANG_TIMEOUT)


# --- destroyed: nothing the user had may be lost ----------------------------------------------

def _intact(*names: str, refused: tuple[int, ...] = (73,), mentions: tuple[str, ...] = (),
            setup=None, args: tuple[str, ...] = (), timeout: float = 60.0):  # type: ignore[no-untyped-def]
    """Run ``args`` after ``setup``; every path in ``names`` must be exactly as it was."""
    def run(ctx: Ctx) -> None:
        setup(ctx)
        before = snapshot(*(ctx.d / n for n in names))
        p = ctx.cli(*args, timeout=timeout)
        expect(p, refused, mentions)
        unchanged(before, snapshot(*(ctx.d / n for n in names)), p)
    return run


def destroyed(name: str, args: tuple[str, ...], names: tuple[str, ...], setup,  # type: ignore[no-untyped-def]
              refused: tuple[int, ...] = (73,), mentions: tuple[str, ...] = (),
              slow: bool = False, batch: bool = False) -> None:
    wanted = (f"exit {'/'.join(map(str, refused))}, {', '.join(names)} unchanged")
    case("destroyed", name, wanted, slow=slow, batch=batch)(_intact(
        *names, refused=refused, mentions=mentions, setup=setup, args=args,
        timeout=TRAIN_TIMEOUT if slow else 60.0))


def _hardlink(ctx: Ctx) -> None:
    _base_and_model(ctx)
    os.link(ctx.d / "data.csv", ctx.d / "same.csv")


destroyed("predict-out-is-the-data", (*PREDICT, "--out", "data.csv"), ("data.csv",),
          _base_and_model, mentions=("data.csv",))
destroyed("predict-out-is-a-hard-link-to-the-data", (*PREDICT, "--out", "same.csv"),
          ("data.csv", "same.csv"), _hardlink)
destroyed("predict-out-is-a-symlink-to-the-data", (*PREDICT, "--out", "link.csv"),
          ("data.csv", "link.csv"),
          lambda c: (_base_and_model(c), os.symlink("data.csv", c.d / "link.csv")))
destroyed("predict-out-is-a-symlink-to-dev-null", (*PREDICT, "--out", "null.csv"),
          ("null.csv",), lambda c: (_base_and_model(c), os.symlink("/dev/null", c.d / "null.csv")))
destroyed("predict-out-is-a-fifo", (*PREDICT, "--out", "pipe.csv"), ("pipe.csv",),
          lambda c: (_base_and_model(c), c.fifo("pipe.csv")))
destroyed("predict-out-is-a-directory", (*PREDICT, "--out", "out"), ("out",),
          lambda c: (_base_and_model(c), c.write("out/keep.txt", "mine")))
destroyed("predict-out-under-a-file", (*PREDICT, "--out", "notes.txt/f.csv"), ("notes.txt",),
          lambda c: (_base_and_model(c), c.write("notes.txt", "mine")))
destroyed("predict-out-is-the-bundle-config", (*PREDICT, "--out", "run/model/config.json"),
          ("run/model",), _base_and_model)
destroyed("predict-out-is-the-bundle-directory", (*PREDICT, "--out", "run/model"),
          ("run/model",), _base_and_model)
destroyed("predict-plot-is-the-data", (*PREDICT, "--plot", "data.csv"), ("data.csv",),
          _base_and_model)
destroyed("train-output-dir-is-the-data", ("train", "data.csv", *TINY, "-o", "data.csv"),
          ("data.csv",), _base)
destroyed("train-output-dir-under-the-data", ("train", "data.csv", *TINY, "-o", "data.csv/run"),
          ("data.csv",), _base)
destroyed("train-plot-is-the-data", ("train", "data.csv", *TINY, "--plot", "data.csv", "-o", "r"),
          ("data.csv",), _base, slow=True)
destroyed("train-data-named-history-csv-in-output-dir",
          ("train", "out/history.csv", *TINY, "-o", "out"), ("out/history.csv",),
          lambda c: c.base("out/history.csv"), refused=(73, 0), slow=True)
destroyed("train-data-inside-output-model-dir", ("train", "model/data.csv", *TINY, "-o", "."),
          ("model/data.csv",), lambda c: c.base("model/data.csv"), refused=(73, 0), slow=True)
destroyed("train-output-model-dir-holds-user-files", ("train", "data.csv", *TINY, "-o", "out"),
          ("out/model/notes.txt",), lambda c: (c.base(), c.write("out/model/notes.txt", "mine")),
          refused=(73, 0), slow=True)
destroyed("batch-output-is-its-own-data",
          ("batch", "b/batch.toml"), ("b/daily.csv",),
          lambda c: _retarget(c, 'output = "daily.csv"'), refused=(1,), batch=True)
destroyed("batch-output-is-its-current-pointer",
          ("batch", "b/batch.toml"), ("b/models/daily/current",),
          lambda c: _retarget(c, 'output = "models/daily/current"'), refused=(1,), batch=True)
destroyed("batch-output-is-a-directory", ("batch", "b/batch.toml"), ("b/outdir",),
          lambda c: (_retarget(c, 'output = "outdir"'), c.write("b/outdir/keep.txt", "mine")),
          refused=(1,), batch=True)
destroyed("batch-state-dir-is-a-file", ("batch", "b/batch.toml", "--state-dir", "b/state"),
          ("b/state",), lambda c: (c.batch(), c.write("b/state", "mine")), refused=(73,),
          batch=True)
destroyed("batch-model-dir-is-the-data", ("batch", "b/batch.toml"), ("b/daily.csv",),
          lambda c: _retarget(c, 'model_dir = "daily.csv"'), refused=(1,), batch=True)


def _retarget(ctx: Ctx, lines: str) -> Path:
    """The shared batch, its job `daily` given ``lines`` (replacing keys of the same name)."""
    batch = ctx.batch()
    keys = {line.split("=")[0].strip() for line in lines.splitlines()}
    kept = [line for line in batch.read_text().splitlines()
            if line.split("=")[0].strip() not in keys]
    batch.write_text("\n".join(kept) + "\n" + lines + "\n")
    return batch


@case("destroyed", "batch-job-writes-over-another-jobs-data",
      "exit 1, job b's data unchanged", slow=True, batch=True)
def _over_other(ctx: Ctx) -> None:
    batch = ctx.batch()
    ctx.base("b/other.csv")
    batch.write_text(batch.read_text().replace('output = "out/{job}.csv"', 'output = "other.csv"')
                     + '\n[jobs.zother]\ndata = "other.csv"\n')
    before = snapshot(ctx.d / "b/other.csv")
    p = ctx.cli("batch", batch, timeout=TRAIN_TIMEOUT)
    expect(p, (1,), ["other.csv"])
    unchanged(before, snapshot(ctx.d / "b/other.csv"), p)


# --- data: read exactly, or refused naming the line -------------------------------------------

def _rows(ctx: Ctx, p: Proc, rows: int = 120) -> None:
    """When validate accepted the file: it read every row, not a garbled few."""
    if p.code == 0:
        report = json.loads(p.out)
        if report.get("rows") != rows:
            raise Broken(f"read {report.get('rows')} rows of {rows}: mis-parsed, silently", p)


def data(name: str, content: str | bytes, codes: tuple[int, ...], mentions=(),  # type: ignore[no-untyped-def]
         args: tuple[str, ...] = (), rows: int | None = 120) -> None:
    simple("data", name, ("validate", "data.csv", "--json", *args), codes, mentions,
           setup=lambda c: c.write("data.csv", content),
           check=(lambda c, p: _rows(c, p, rows)) if rows is not None else None)


ROWS = series_rows()


def _with(i: int, value: str, col: int = 1, rows=ROWS) -> str:  # type: ignore[no-untyped-def]
    """The base series with row ``i``'s column ``col`` replaced by ``value``."""
    lines = ["timestamp,value"]
    for k, (t, v) in enumerate(rows):
        cells = [t, v]
        if k == i:
            cells[col] = value
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


LINE = ("line 42", "row 42", "line", "row")
data("cr-only-line-ends", series_csv(eol="\r"), (0, 65), [("line", "carriage", "\\r")])
data("mixed-lf-crlf-cr-line-ends", "".join(
    line + ("\n", "\r\n", "\r")[i % 3] for i, line in enumerate(series_csv().splitlines())),
    (0, 65), [("line", "carriage")])
data("70-kb-header", "timestamp,value" + "x" * 70_000 + "\n" + series_csv().split("\n", 1)[1],
     (0, 65), [("header", "column")])
data("dates-in-year-1500", series_csv(start=date(1500, 1, 1)), (0, 65), [LINE])
data("dates-in-year-2300", series_csv(start=date(2300, 1, 1)), (0, 65), [LINE])
data("values-near-1e308", "timestamp,value\n" + "".join(
    f"{t},{'1e308' if i % 2 else '-1e308'}\n" for i, (t, _) in enumerate(ROWS)), (0, 65),
    [("value", "large", "finite", "overflow")])
data("arabic-indic-digits-in-values", _with(40, "١٢٫٥"), (65,), [LINE])
# other scripts' digits: converted and listed as a fix naming the line (0), or refused (65)
data("arabic-indic-digits-in-timestamps", _with(40, "٢٠٢٠-٠٢-١٠", col=0), (0, 65), [LINE])
data("full-width-digits-in-values", _with(40, "１２"), (0, 65), [LINE])
data("python-underscore-number", _with(40, "1_000"), (65,), [LINE])
data("hex-number", _with(40, "0x1A"), (65,), [LINE])
data("nan-string-as-timestamp", _with(40, "NaN", col=0), (65,), [LINE])
data("whitespace-only-file", "\n \n\t\n\n", (65,), [("empty", "header", "no data", "column")],
     rows=None)
data("utf8-text-garbage",
     "".join(random.Random(1).choice("漢字かなカナ😀🚀ñßø ") for _ in range(3000)),
     (65,), [("column", "time", "header")], rows=None)
data("gzip-compressed-csv", gzip.compress(series_csv().encode(), mtime=0), (65,),
     [("gzip", "compress", "binary", "text", "utf-8")], rows=None)
data("double-bom", "\ufeff\ufeff" + series_csv(), (0, 65), [("bom", "timestamp", "column")])
data("bom-read-as-latin-1", "\ufeff" + series_csv(), (0, 65), [("timestamp", "column")],
     args=("--encoding", "latin-1"))
data("utf-8-read-as-utf-16", series_csv(), (65,), [("utf-16", "encoding", "decode")],
     args=("--encoding", "utf-16"), rows=None)
data("leap-second", _with(40, "2020-02-10T23:59:60", col=0), (65,), [LINE])
data("february-30", _with(40, "2020-02-30", col=0), (65,), [LINE])
data("epoch-ms-read-as-seconds", "timestamp,value\n" + "".join(
    f"{1_600_000_000_000 + i * 86_400_000},{v}\n" for i, (_, v) in enumerate(ROWS)), (65,),
    [("time", "date", "range", "year")], args=("--time-unit", "s"), rows=None)
data("z-and-offset-suffixes-mixed", "timestamp,value\n" + "".join(
    f"{t}T00:00:00{'Z' if i % 2 else '+00:00'},{v}\n" for i, (t, v) in enumerate(ROWS)), (0,))
data("empty-header-field", "timestamp,,value\n" + "".join(f"{t},1,{v}\n" for t, v in ROWS),
     (65,), [("header", "column", "name")], rows=None)
data("trailing-comma-on-every-line", "".join(line + ",\n" for line in series_csv().splitlines()),
     (0, 65), [("column", "header", "field")])
data("true-false-values", _with(40, "True"), (65,), [LINE])
data("dangling-exponent", _with(40, "1.5e"), (65,), [LINE])
data("ctrl-z-at-end", series_csv() + "\x1a", (0, 65), [("line", "row")])
data("vertical-tab-in-number", _with(40, "1\x0b2"), (65,), [LINE])
data("year-zero", _with(40, "0000-02-10", col=0), (65,), [LINE])
data("negative-year", _with(40, "-0001-02-10", col=0), (65,), [LINE])
data("infinity-sign-character", _with(40, "∞"), (65,), [LINE])
data("unicode-line-separator-in-value", _with(40, "1\u20282"), (65,), [LINE])
data("header-repeated-mid-file", "\n".join(
    line if i != 60 else "timestamp,value" for i, line in enumerate(series_csv().splitlines()))
    + "\n", (65,), [LINE], rows=None)
data("bom-mid-file", "\n".join(
    line if i != 60 else "\ufeff" + line for i, line in enumerate(series_csv().splitlines()))
    + "\n", (0, 65), [LINE])
data("one-row-of-a-million-fields", _with(40, ",".join(["1"] * 1_000_000)), (65,), [LINE],
     rows=None)
data("newline-inside-quoted-header", '"time\nstamp",value\n' + series_csv().split("\n", 1)[1],
     (0, 65), [("column", "time", "header")], args=("--time-col", "time\nstamp"))

simple("data", "predict-arabic-indic-digits", PREDICT, (0, 65), [LINE],
       setup=lambda c: (c.write("data.csv", _with(100, "١٢")), c.run_dir()))
simple("data", "predict-python-underscore-number", PREDICT, (65,), [LINE],
       setup=lambda c: (c.write("data.csv", _with(100, "1_0")), c.run_dir()))
simple("data", "predict-past-year-9999", PREDICT, (65,), [("year", "date", "time", "range")],
       setup=lambda c: (c.write("data.csv", series_csv(start=date(9999, 12, 31) - (
           date(2020, 4, 29) - date(2020, 1, 1)))), c.run_dir()))


def _finite_output(ctx: Ctx, p: Proc) -> None:
    if p.code == 0 and any(w in p.out.lower() for w in ("inf", "nan")):
        raise Broken("wrote a forecast of inf/nan", p)


simple("data", "predict-values-near-1e308", PREDICT, (0, 65), [("value", "finite", "range")],
       setup=lambda c: (c.write("data.csv", "timestamp,value\n" + "".join(
           f"{t},{'1e308' if i % 2 else '9e307'}\n" for i, (t, _) in enumerate(ROWS))),
           c.run_dir()), check=_finite_output)
simple("data", "train-values-near-1e308", ("train", "data.csv", *TINY, "-o", "r"), (1, 65),
       [("finite", "value", "large", "overflow", "diverged")],
       setup=lambda c: c.write("data.csv", "timestamp,value\n" + "".join(
           f"{t},{'1e308' if i % 2 else '-1e308'}\n" for i, (t, _) in enumerate(ROWS))),
       timeout=TRAIN_TIMEOUT, slow=True)


# --- bundles: a tampered bundle whose manifest was re-hashed must still be refused ------------

def bundle(name: str, tamper, mentions=(), codes: tuple[int, ...] = (65,),  # type: ignore[no-untyped-def]
           args: tuple[str, ...] = PREDICT, check=None, slow: bool = False,
           hashed: bool = True) -> None:
    def setup(ctx: Ctx) -> None:
        ctx.base()
        model = ctx.model()
        extra = tamper(model)  # the names it added to the manifest, if any
        if hashed:
            rehash(model, extra if isinstance(extra, list) else ())
    simple("bundles", name, args, codes, mentions, setup=setup, check=check, slow=slow,
           timeout=TRAIN_TIMEOUT if slow else HANG_TIMEOUT)


def _net(key: str, value: object):  # type: ignore[no-untyped-def]
    return lambda m: edit_json(m / "config.json", lambda c: c["network"].__setitem__(key, value))


def _data(key: str, value: object):  # type: ignore[no-untyped-def]
    return lambda m: edit_json(m / "config.json", lambda c: c["data"].__setitem__(key, value))


def _scaler(key: str, value: object):  # type: ignore[no-untyped-def]
    return lambda m: edit_json(m / "scaler.json", lambda c: c.__setitem__(key, value))


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


bundle("horizon-one-billion", _net("horizon", 10**9), ["horizon"])
bundle("lookback-zero", _net("lookback", 0), ["lookback"])
bundle("lookback-negative", _net("lookback", -5), ["lookback"])
bundle("lookback-fractional", _net("lookback", 8.5), ["lookback"])
bundle("lstm-units-ten-million", _net("lstm_units", 10**7), ["lstm_units"])
bundle("n-inputs-mismatch", _net("n_inputs", 5), [("n_inputs", "input", "shape", "weights")])
bundle("network-missing", lambda m: edit_json(m / "config.json", lambda c: c.pop("network")),
       ["network"])
bundle("freq-0D", _data("freq", "0D"), ["freq"])
bundle("targets-unknown-column", _data("targets", ["nope"]), ["nope"])
bundle("time-col-an-integer", _data("time_col", 5), ["time_col"])
bundle("season-zero", _data("season", 0), ["season"])
bundle("interval-level-150", lambda m: edit_json(
    m / "intervals.json", lambda c: c.__setitem__("levels", [150.0, 95.0])), ["level"])
bundle("interval-levels-as-text", lambda m: edit_json(
    m / "intervals.json", lambda c: c.__setitem__("levels", ["80", "95"])), ["level"])
bundle("scaler-scale-zero", _scaler("scale", [0.0]), ["scale"])
bundle("scaler-scale-nan", _scaler("scale", [float("nan")]), ["scale"])
bundle("scaler-scale-1e308", lambda m: (_scaler("scale", [1e308])(m),
                                         _scaler("offset", [1e308])(m)),
       [("scale", "finite", "offset")], codes=(0, 65), check=_finite_output)
bundle("scaler-three-columns-for-one", _scaler("scale", [1.0, 2.0, 3.0]), ["scale"])
bundle("scaler-kind-pickle", _scaler("kind", "pickle"), ["kind"])


def _half_widths(value: float):  # type: ignore[no-untyped-def]
    def change(c: dict) -> None:  # type: ignore[type-arg]
        c["half_widths"][0] = [[value] for _ in c["half_widths"][0]]
    return lambda m: edit_json(m / "intervals.json", change)


def _ordered_bounds(ctx: Ctx, p: Proc) -> None:
    _finite_output(ctx, p)
    if p.code == 0:
        lines = [line.split(",") for line in p.out.strip().splitlines()]
        cols = lines[0]
        if "value_lower_80" in cols:
            lo, hi = cols.index("value_lower_80"), cols.index("value_upper_80")
            if any(float(r[lo]) > float(r[hi]) for r in lines[1:]):
                raise Broken("wrote intervals whose lower bound is above the upper one", p)


bundle("interval-half-width-nan", _half_widths(float("nan")), ["interval"], codes=(0, 65),
       check=_finite_output)
bundle("interval-half-width-negative", _half_widths(-5.0), ["interval"], codes=(0, 65),
       check=_ordered_bounds)


def _extra_file(m: Path) -> list[str]:
    (m / "evil.py").write_text("import os\n")
    return []


def _outside(name: str):  # type: ignore[no-untyped-def]
    def tamper(m: Path) -> list[str]:
        (m.resolve().parent / "outside.txt").write_text("x")  # where ../ leads from the bundle
        return [name]
    return tamper


bundle("an-extra-unlisted-file", _extra_file, ["evil.py"])
bundle("manifest-lists-a-path-outside", _outside("../outside.txt"), [("outside", "manifest")])
bundle("manifest-lists-an-absolute-path", _outside(str(Path("/etc/hostname"))),
       [("/etc/hostname", "manifest")])


def _symlinked(name: str):  # type: ignore[no-untyped-def]
    def tamper(m: Path) -> None:
        real = m.parent / f"real-{name}"
        (m / name).rename(real)
        os.symlink(real, m / name)
    return tamper


bundle("weights-a-symlink-to-a-copy", _symlinked("model.weights.h5"),
       ["model.weights.h5"], hashed=False)
bundle("onnx-a-symlink-to-a-copy", _symlinked("model.onnx"), ["model.onnx"], hashed=False)
bundle("config-nested-100000-deep", lambda m: (m / "config.json").write_text(_nested(100_000)),
       ["config.json"])
bundle("manifest-nested-100000-deep", lambda m: (m / "manifest.json").write_text(
    _nested(100_000)), ["manifest.json"], hashed=False)
bundle("config-30-mb-of-whitespace", lambda m: (m / "config.json").write_text(
    " " * 30_000_000 + (m / "config.json").read_text()), ["config.json"], codes=(0, 65))
bundle("manifest-an-array", lambda m: (m / "manifest.json").write_text("[]"), ["manifest"],
       hashed=False)
bundle("manifest-format-version-999", lambda m: edit_json(
    m / "manifest.json", lambda c: c.__setitem__("format_version", 999)), ["version"],
    hashed=False)
bundle("onnx-truncated", lambda m: (m / "model.onnx").write_bytes(
    (m / "model.onnx").read_bytes()[:500]), ["onnx"])
bundle("onnx-garbage", lambda m: (m / "model.onnx").write_bytes(os.urandom(4096)), ["onnx"])
bundle("weights-garbage-keras-engine", lambda m: (m / "model.weights.h5").write_bytes(
    os.urandom(4096)), [("weights", "h5")], args=(*PREDICT, "--engine", "keras"), slow=True)
bundle("config-deleted-from-manifest", lambda m: (m / "config.json").unlink(), ["config.json"])
simple("bundles", "bundle-path-is-a-file", ("predict", "--model", "m", "data.csv"), (65, 66),
       ["m"], setup=lambda c: (c.base(), c.write("m", "not a bundle")), timeout=HANG_TIMEOUT)
