"""Adversarial cases about runs: bad settings (CLI, TOML), torn runs (kills), batch.

Each reads as: what is built, the command, what must come out (see ``adversarial_base``).
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import signal
import sqlite3
import time
from pathlib import Path

from bench.adversarial_base import (
    KILLED,
    TINY,
    TINY_TOML,
    TRAIN_TIMEOUT,
    Broken,
    Ctx,
    Proc,
    case,
    expect,
    simple,
    snapshot,
    unchanged,
)

TRAIN = ("train", "data.csv", *TINY, "-o", "r")
VALIDATE = ("validate", "data.csv")
CONFIG_TIMEOUT = 120.0  # a config wrongly accepted trains a tiny network


def _base(ctx: Ctx) -> None:
    ctx.base()


# --- settings on the command line: usage errors (2) naming the setting ------------------------

def cli_setting(name: str, args: tuple[str, ...], mentions, codes=(2,)) -> None:  # type: ignore[no-untyped-def]
    simple("settings", name, args, codes, mentions, setup=_base, timeout=CONFIG_TIMEOUT)


for flag, value, word in [
        ("--learning-rate", "nan", "learning"), ("--learning-rate", "inf", "learning"),
        ("--dropout", "nan", "dropout"), ("--clipnorm", "nan", "clipnorm"),
        ("--clipnorm", "-1", "clipnorm"), ("--seed", "99999999999", "seed"),
        ("--seed", "-1", "seed"), ("--sep", "ab", "sep"), ("--train-frac", "nan", "train"),
        ("--level", "100", "level"), ("--level", "nan", "level"), ("--level", "-5", "level"),
        ("--dense-units", "4,-1", "dense"), ("--dense-units", "1e3", "dense"),
        ("--patch-len", "0", "patch"), ("--lookback", "100001", "lookback"),
        ("--horizon", "10001", "horizon"), ("--lstm-layers", "17", "lstm"),
        ("--batch-size", "99999999", "batch"), ("--epochs", "1e9", "epochs")]:
    cli_setting(f"train{flag}-{value}", (*TRAIN, flag, value), [word])

for flag, value, word in [
        ("--sep", "", "sep"), ("--sep", "\n", "sep"), ("--sep", '"', "sep"),
        ("--sep", "1", "sep"), ("--decimal", "5", "decimal"), ("--decimal", "", "decimal"),
        ("--thousands", "1", "thousands"), ("--freq", "0D", "freq"), ("--freq", "-1D", "freq"),
        ("--freq", "banana", "freq"), ("--encoding", "rot13", "encoding"),
        ("--encoding", "base64", "encoding"), ("--encoding", "no-such-codec", "encoding"),
        ("--tz", "Mars/Olympus", "tz"), ("--tz", "../../etc/passwd", "tz"), ("--tz", "", "tz"),
        ("--time-format", "%Q", "time"), ("--time-format", "", "time"),
        ("--fill-limit", "0", "fill"), ("--max-rows", "0", "max"),
        ("--time-col", "", "time")]:
    cli_setting(f"validate{flag}-{value!r}".replace("\n", "\\n"), (*VALIDATE, flag, value),
                [word], codes=(2, 65))

for args, word in [(("--wait", "nan"), "wait"), (("--wait", "-1"), "wait"),
                   (("--job-time-limit", "0"), "time"), (("--job-time-limit", "inf"), "time")]:
    simple("settings", f"batch{args[0]}-{args[1]}", ("batch", "b/batch.toml", *args), (2,),
           [word], setup=lambda c: c.batch(), batch=True)
simple("settings", "history--limit-0", ("history", "b/batch.toml", "--limit", "0"), (2,),
       ["limit"], setup=lambda c: c.batch(), batch=True)


# --- settings in a --config file: the same names, the same refusals ---------------------------

def config(name: str, line: str, mentions, codes=(2,)) -> None:  # type: ignore[no-untyped-def]
    key = line.split("=")[0].strip()
    name = name or re.sub(r"[^a-z0-9]+", "-", line.lower()).strip("-")[:40]
    tiny = "".join(x + "\n" for x in TINY_TOML.splitlines() if x.split("=")[0].strip() != key)

    def setup(ctx: Ctx) -> None:
        ctx.base()
        ctx.write("c.toml", tiny + line + "\n")
    simple("settings", f"config-{name}", ("train", "data.csv", "--config", "c.toml"),
           codes, mentions, setup=setup, timeout=CONFIG_TIMEOUT)


for line, word in [
        ('strict = "false"', "strict"), ("tz = 5", "tz"), ("dense_units = [1.9, 2.7]", "dense"),
        ("time_col = 5", "time_col"), ("epochs = 1.5", "epochs"), ('epochs = "10"', "epochs"),
        ("lookback = true", "lookback"), ("learning_rate = nan", "learning_rate"),
        ("seed = 99999999999", "seed"), ("horizon = 1979-05-27", "horizon"),
        ("lookback = { a = 1 }", "lookback"), ('target = [["value"]]', "target"),
        ("features = [1, 2]", "features"), ('levels = "eighty"', "levels"), ("freq = 0", "freq"),
        ('sep = "ab"', "sep"), ('encoding = "rot13"', "encoding"), ("clipnorm = inf", "clipnorm"),
        ("fill_limit = inf", "fill_limit"), ("max_rows = -1", "max_rows"),
        ('id_col = ["a"]', "id_col"), ("calendar = 1", "calendar"), ("output_dir = 5", "output"),
        ("levels = [80, 80]", "levels"), ("dropout = -0.0001", "dropout"),
        ("x = " + "[" * 5000 + "]" * 5000, ("c.toml", "toml", "nest", "deep")),
        ("x = " + "{a = " * 3000 + "1" + "}" * 3000, ("c.toml", "toml", "nest", "deep")),
        ('lookback = 8\nlookback = 9', ("c.toml", "toml", "lookback"))]:
    deep = {"[": "arrays-nested-5000-deep", "{": "tables-nested-3000-deep"}.get(line[4:5], "")
    config(deep or ("duplicate-key" if "\n" in line else ""), line, [word])

simple("settings", "config-binary-garbage", ("train", "data.csv", "--config", "c.toml"), (2,),
       ["c.toml"], setup=lambda c: (c.base(), c.write("c.toml", os.urandom(2000))))
simple("settings", "config-a-directory", ("train", "data.csv", "--config", "cdir"), (66,),
       ["cdir"], setup=lambda c: (c.base(), (c.d / "cdir").mkdir()))


# --- settings in a batch file: a bad job fails alone (1), a bad file is a usage error (2) -----

def job_setting(name: str, lines: str, mentions, codes=(1,)) -> None:  # type: ignore[no-untyped-def]
    from bench.adversarial_files import _retarget

    simple("settings", f"batch-{name}", ("batch", "b/batch.toml"), codes, mentions,
           setup=lambda c: _retarget(c, lines), batch=True)


job_setting("time-limit-as-text", 'time_limit = "1h"', ["time_limit"])
job_setting("time-limit-nan", "time_limit = nan", ["time_limit"])
job_setting("every-days-nan", "retrain = { every_days = nan }", ["every_days"])
job_setting("min-new-rows-fractional", "retrain = { min_new_rows = 1.5 }", ["min_new_rows"])
job_setting("keep-versions-float", "keep_versions = 1.0", ["keep_versions"])
job_setting("data-a-list", 'data = ["a.csv"]', ["data"])
job_setting("epochs-nan", "epochs = nan", ["epochs"])
job_setting("time-col-an-integer", "time_col = 5", ["time_col"])
job_setting("output-with-unknown-braces", 'output = "{job}/{date}/{x}"', ["output"])
job_setting("unknown-key", 'data_dir = "x"', ["data_dir"])
simple("settings", "batch-state-dir-an-integer", ("batch", "jobs.toml"), (2,), ["state_dir"],
       setup=lambda c: (c.base(), c.write("jobs.toml", "state_dir = 5\n[defaults]\n" + TINY_TOML
                                          + '[jobs.a]\ndata = "data.csv"\n')))
simple("settings", "batch-jobs-an-array", ("batch", "jobs.toml"), (2,), ["jobs"],
       setup=lambda c: c.write("jobs.toml", "jobs = []\n"))
simple("settings", "batch-job-name-escapes", ("batch", "jobs.toml"), (1,), ["../evil"],
       setup=lambda c: (c.base(), c.write("jobs.toml", '[jobs."../evil"]\ndata = "data.csv"\n')))
simple("settings", "batch-defaults-nested-3000-deep", ("batch", "jobs.toml"), (2,),
       [("jobs.toml", "toml", "deep", "nest")],
       setup=lambda c: c.write("jobs.toml", "[defaults]\nx = " + "[" * 3000 + "]" * 3000
                               + '\n[jobs.a]\ndata = "d.csv"\n'))


# --- torn runs: a kill at any moment leaves the earlier outputs whole --------------------------

RNG = random.Random(14)  # the kill times are drawn, and reproducible
SEED8 = (*TINY, "--seed", "8")  # another seed: every output of the new run differs
RUN_FILES = ("metrics.json", "history.csv", "test_forecasts.csv", "model/manifest.json",
             "model/config.json")


def _kill_after(ctx: Ctx, seconds: float, *args: str | Path, env=None, sig=signal.SIGKILL  # type: ignore[no-untyped-def]
                ) -> Proc:
    began = time.monotonic()
    proc = ctx.start(*args, env=env)
    try:
        proc.wait(timeout=seconds)
    except Exception:
        os.killpg(proc.pid, sig)
    return ctx.finish(proc, TRAIN_TIMEOUT, began)


def _whole_run(ctx: Ctx, out: Path, old: dict[str, bytes], p: Proc) -> None:
    """Every file of ``out`` is the old run's, or every one is the new run's; the bundle loads."""
    now = {n: (out / n).read_bytes() if (out / n).is_file() else None for n in RUN_FILES}
    same = [n for n in RUN_FILES if now[n] == old[n]]
    if same and len(same) != len(RUN_FILES):
        raise Broken(f"torn: {', '.join(same)} old, the rest new or missing", p)
    check = ctx.cli("predict", "--model", out / "model", "data.csv")
    if check.code != 0:
        raise Broken(f"torn: the bundle left behind does not load ({check.err.strip()[-200:]})", p)


for _ in range(5):
    at = round(RNG.uniform(3.0, 24.0), 1)

    @case("torn", f"train-sigkill-at-{at}s", "the output directory is the old run or the new "
          "one, whole, and loads", slow=True)
    def _train_kill(ctx: Ctx, at: float = at) -> None:
        ctx.base()
        out = ctx.run_dir("out")
        old = {n: (out / n).read_bytes() for n in RUN_FILES}
        p = _kill_after(ctx, at, "train", "data.csv", *SEED8, "-o", "out")
        if p.code not in (0, KILLED):
            expect(p, (0,))
        _whole_run(ctx, out, old, p)


@case("torn", "train-rerun-after-a-kill-leaves-no-leftovers",
      "exit 0, then no temporary directory or file beside the outputs", slow=True)
def _rerun(ctx: Ctx) -> None:
    ctx.base()
    ctx.run_dir("out")
    _kill_after(ctx, 10.0, "train", "data.csv", *SEED8, "-o", "out")
    p = ctx.cli("train", "data.csv", *SEED8, "-o", "out", "--quiet", timeout=TRAIN_TIMEOUT)
    expect(p, (0,))
    left = [x.name for d in (ctx.d, ctx.d / "out") for x in d.iterdir()
            if x.name.endswith(".tmp") or ".old-" in x.name or x.name.startswith(".staging")]
    if left:
        raise Broken(f"leftovers of the killed run: {', '.join(left)}", p)


def _pred_kill(ctx: Ctx, at: float) -> None:
    ctx.base()
    ctx.run_dir()
    expect(ctx.cli("predict", "--model", "run/model", "data.csv", "--out", "f.csv"), (0,))
    old = (ctx.d / "f.csv").read_bytes()
    with (ctx.d / "data.csv").open("a") as fh:  # one more row: a new forecast
        fh.write("2020-04-30,16.5\n")
    expect(ctx.cli("predict", "--model", "run/model", "data.csv", "--out", "g.csv"), (0,))
    new = (ctx.d / "g.csv").read_bytes()
    p = _kill_after(ctx, at, "predict", "--model", "run/model", "data.csv", "--out", "f.csv")
    if (ctx.d / "f.csv").read_bytes() not in (old, new):
        raise Broken("torn: the forecast is neither the old one nor the new one", p)


for _ in range(3):
    at = round(RNG.uniform(0.3, 2.0), 2)
    case("torn", f"predict-sigkill-at-{at}s", "the forecast file is the old or the new one")(
        lambda ctx, at=at: _pred_kill(ctx, at))


def _batch_outputs(root: Path) -> dict[str, object]:
    return {k: v for k, v in snapshot(root / "models", root / "out").items()
            if not k.endswith(".tmp") and "/.staging-" not in k}


def kept(before: dict[str, object], after: dict[str, object], p: Proc | None) -> None:
    """Every file there before is as it was (a complete new version may have been added)."""
    unchanged(before, {k: after.get(k) for k in before}, p)


def _leftovers(root: Path) -> list[str]:
    return [p.name for p in (root / "models").rglob(".*") if p.name != ".lock"] + [
        p.name for p in (root / "out").glob(".*")]


def _killpoint(point: str, change: str) -> None:
    @case("torn", f"batch-kill-at-{point}", "killed: models and forecast as before; the next "
          "run exits 0 and leaves no leftovers", slow=True, batch=True)
    def run(ctx: Ctx) -> None:
        from bench.adversarial_files import _retarget

        batch = _retarget(ctx, change) if "=" in change else ctx.batch()
        root = batch.parent
        if "=" not in change:
            with (root / "daily.csv").open("a") as fh:
                fh.write(change)
        before = _batch_outputs(root)
        p = ctx.cli("batch", batch, env={"FORECAST_TEST_KILL_AT": point}, timeout=TRAIN_TIMEOUT)
        if p.code != KILLED:
            raise Broken(f"the kill point was not reached (exit {p.code})", p)
        kept(before, _batch_outputs(root), p)
        again = ctx.cli("batch", batch, timeout=TRAIN_TIMEOUT)
        expect(again, (0,))
        if _leftovers(root):
            raise Broken(f"leftovers after the next run: {', '.join(_leftovers(root))}", again)


_killpoint("training-epoch-2", "seed = 8")
_killpoint("publish", "horizon = 5")  # another horizon: the new model always wins
_killpoint("forecast-write", "2020-04-30,16.5\n")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _lock_free(path: Path) -> bool:
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
    return True


def _parent_killed(sig: signal.Signals) -> None:
    @case("torn", f"batch-parent-{sig.name}-during-training", "no job process outlives the "
          "batch, its lock is free, outputs as before, the next run exits 0", slow=True,
          batch=True)
    def run(ctx: Ctx) -> None:
        from bench.adversarial_files import _retarget

        batch = _retarget(ctx, "seed = 8")
        root = batch.parent
        before = _batch_outputs(root)
        log = root / ".forecast-state" / "batch.log"
        earlier = len(log.read_text())  # the fixture's own run is logged there too
        began = time.monotonic()
        proc = ctx.start("batch", batch)
        while ("daily: training" not in log.read_text()[earlier:]
               and time.monotonic() - began < 60 and proc.poll() is None):
            time.sleep(0.1)
        time.sleep(2.0)
        os.kill(proc.pid, sig)  # the batch process only, as cron or a user would
        p = ctx.finish(proc, 30, time.monotonic())
        new = log.read_text()[earlier:]
        workers = [int(w.split()[0]) for w in new.split("job worker pid ")[1:]]
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        if any(_alive(w) for w in workers):
            raise Broken("a job process outlived its batch", p)
        if not _lock_free(root / "models" / "daily" / ".lock"):
            raise Broken("the job's lock is still held", p)
        kept(before, _batch_outputs(root), p)
        expect(ctx.cli("batch", batch, timeout=TRAIN_TIMEOUT), (0,))


_parent_killed(signal.SIGKILL)
_parent_killed(signal.SIGTERM)


@case("torn", "two-trainings-into-one-directory", "each exits 0 or 75; what is left is one "
      "run's outputs, whole", slow=True)
def _two_trains(ctx: Ctx) -> None:
    ctx.base()
    began = time.monotonic()
    a = ctx.start("train", "data.csv", *TINY, "-o", "out", "--quiet")
    b = ctx.start("train", "data.csv", *SEED8, "-o", "out", "--quiet")
    for proc in (a, b):
        expect(ctx.finish(proc, TRAIN_TIMEOUT, began), (0, 75))
    metrics = json.loads((ctx.d / "out" / "metrics.json").read_text())
    bundle = json.loads((ctx.d / "out" / "model" / "config.json").read_text())
    seeds = {json.dumps(metrics).count('"seed": 8') > 0, bundle["settings"]["seed"] == 8}
    if len(seeds) != 1:
        raise Broken("torn: metrics.json and the bundle come from different runs", ctx.last)


# --- batch: time limits, leftovers, broken state ----------------------------------------------

def _history(ctx: Ctx, batch: Path, job: str) -> dict[str, object]:
    p = ctx.cli("history", batch, "--json", "--job", job)
    expect(p, (0,))
    runs: list[dict[str, object]] = json.loads(p.out)["runs"]
    return runs[0]


@case("batch", "job-over-its-time-limit-fails-alone", "exit 1 within a minute, one Error line "
      "naming the job and its time limit; the other job ok; locks free; history: failed",
      slow=True, batch=True)
def _time_limit(ctx: Ctx) -> None:
    batch = ctx.batch()
    batch.write_text(batch.read_text() + '\n[jobs.aslow]\ndata = "daily.csv"\nepochs = 100000\n'
                     "patience = 100000\ntime_limit = 3\n")
    p = ctx.cli("batch", batch, "--json", timeout=90)
    expect(p, (1,), ["aslow", "time limit"])
    if p.seconds > 60:
        raise Broken(f"took {p.seconds:.0f} s for a 3 s limit", p)
    status = {j["job"]: j["status"] for j in json.loads(p.out)["jobs"]}
    if status != {"aslow": "failed", "daily": "ok"}:
        raise Broken(f"statuses {status}", p)
    for lock in [*(batch.parent / ".forecast-state" / "locks").glob("*.lock"),
                 batch.parent / "models" / "aslow" / ".lock"]:
        if lock.exists() and not _lock_free(lock):
            raise Broken(f"{lock.name} still held", p)
    run = _history(ctx, batch, "aslow")
    if run["status"] != "failed" or "time limit" not in str(run["message"]):
        raise Broken(f"history: {run['status']}: {run['message']}", p)
    if list((batch.parent / "models" / "aslow").glob(".staging-*")):
        raise Broken("the stopped job's staging directory is left", p)


@case("batch", "job-time-limit-option-over-a-training", "exit 1 naming the 2 s limit; the "
      "previous model and forecast unchanged", slow=True, batch=True)
def _limit_option(ctx: Ctx) -> None:
    from bench.adversarial_files import _retarget

    batch = _retarget(ctx, "seed = 8")
    before = _batch_outputs(batch.parent)
    p = ctx.cli("batch", batch, "--job-time-limit", "2", timeout=90)
    expect(p, (1,), ["time limit of 2 s"])
    kept(before, _batch_outputs(batch.parent), p)


@case("batch", "leftovers-of-killed-runs-are-removed", "exit 0, no .current.*.tmp, "
      ".staging-* or output .tmp left", batch=True)
def _leftover_run(ctx: Ctx) -> None:
    batch = ctx.batch()
    root = batch.parent
    ctx.write("b/models/daily/.current.k1ll3d.tmp", "v0002\n")
    ctx.write("b/models/daily/.staging-0123456789abcdef/model/x", "half")
    ctx.write("b/out/.daily.csv.k1ll3d.tmp", "half a forecast")
    with (root / "daily.csv").open("a") as fh:
        fh.write("2020-04-30,16.5\n")
    p = ctx.cli("batch", batch, timeout=TRAIN_TIMEOUT)
    expect(p, (0,))
    if _leftovers(root):
        raise Broken(f"left: {', '.join(_leftovers(root))}", p)


def _state(name: str, path: str, write, codes, mentions) -> None:  # type: ignore[no-untyped-def]
    def setup(ctx: Ctx) -> None:
        batch = ctx.batch()
        target = batch.parent / path
        if target.is_dir():
            import shutil
            shutil.rmtree(target)
        write(target)
    simple("batch", name, ("batch", "b/batch.toml"), codes, mentions, setup=setup, batch=True)


def _future_db(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
        conn.execute("CREATE TABLE runs (id INTEGER)")


_state("version-json-nested-100000-deep", "models/daily/versions/v0001/version.json",
       lambda p: p.write_text("[" * 100_000 + "]" * 100_000), (1,), ["version.json"])
_state("current-pointer-10-mb", "models/daily/current",
       lambda p: p.write_text("v0001\n" + "x" * 10**7),
       (1,), ["current"])
_state("current-pointer-escapes", "models/daily/current", lambda p: p.write_text("../../../etc\n"),
       (1,), ["current"])
_state("history-db-garbage", ".forecast-state/history.sqlite",
       lambda p: p.write_bytes(os.urandom(8192)), (65, 73, 74), ["history.sqlite"])
_state("history-db-from-the-future", ".forecast-state/history.sqlite", _future_db,
       (2, 65, 73, 74), ["history"])
_state("locks-dir-is-a-file", ".forecast-state/locks", lambda p: p.write_text("x"), (73,),
       ["locks"])
simple("batch", "history-command-on-a-garbage-db", ("history", "b/batch.toml"), (65, 66, 73, 74),
       ["history.sqlite"], batch=True, setup=lambda c: (c.batch(), (
           c.d / "b/.forecast-state/history.sqlite").write_bytes(os.urandom(8192))))


def _two_jobs(key: str) -> None:
    @case("batch", f"two-jobs-share-one-{key}", f"refused (exit 1 or 2) naming `{key}`",
          slow=True, batch=True)
    def run(ctx: Ctx) -> None:
        batch = ctx.batch()
        value = {"model_dir": "models/daily", "output": "out/daily.csv"}[key]
        batch.write_text(batch.read_text() + f'\n[jobs.twin]\ndata = "daily.csv"\nseed = 9\n'
                         f'{key} = "{value}"\n')
        p = ctx.cli("batch", batch, timeout=TRAIN_TIMEOUT)
        expect(p, (1, 2), [key])


_two_jobs("model_dir")
_two_jobs("output")
simple("batch", "job-name-of-300-characters", ("batch", "jobs.toml"), (1, 2), ["job"],
       setup=lambda c: (c.base(), c.write("jobs.toml", f'[jobs.{"j" * 300}]\ndata = "data.csv"\n')))
