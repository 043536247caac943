"""Hostile inputs against the real CLI, each judged held or broken by what it should do (issue 14).

    PYTHONPATH=$PWD .venv/bin/python bench/adversarial.py [--workers 2] [--kind KIND] [--only TEXT]

Every case builds its files in a directory of its own under one temporary root, runs
``python -m forecast_cli`` (this checkout, through PYTHONPATH) in subprocesses with a timeout
each, in its own process group (killed whole on a timeout), and is **held** when every check
passes:

* it ends before its timeout (no hang) and by no signal it was not sent;
* no traceback and no "unexpected failure" on stderr;
* its exit code is one of those expected (the documented code of that failure);
* its ``Error:`` message names what is wrong (the file, the setting, the value, the line);
* nothing is destroyed or torn: inputs and earlier outputs are byte-identical, or complete.

Otherwise it is **broken**, with the check that failed and the tail of what it printed. Kinds:
hangs, destroyed, torn, bundles, data, settings, batch (``adversarial_cases``). None repeats
a case of ../shared/docs/bad-inputs.md's catalogue (tested in tests/). Cases run on a pool of
at most 2 threads, each waiting on its own subprocesses. The table and every broken case are
printed and written to bench/results/adversarial.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# runnable as `python bench/NAME.py` from the repository root: `bench` is a package there
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.adversarial_base import REPO, Broken, Ctx, Result, Shared, all_cases

RESULTS = REPO / "bench" / "results" / "adversarial.md"
KINDS = ("hangs", "destroyed", "torn", "bundles", "data", "settings", "batch")


@dataclass(frozen=True)
class Run:
    results: list[Result]
    seconds: float
    command: str


def _one(case: object, root: Path, shared: Shared) -> Result:
    from bench.adversarial_base import Case

    assert isinstance(case, Case)
    d = root / "cases" / case.name
    d.mkdir(parents=True)
    started = time.monotonic()
    ctx = Ctx(d, shared)
    try:
        case.run(ctx)
    except Broken as exc:
        return Result(case, False, exc.why, exc.proc, time.monotonic() - started)
    except Exception as exc:  # the case's own code failed: report it, never hide it
        return Result(case, False, f"case error: {type(exc).__name__}: {exc}", None,
                      time.monotonic() - started)
    finally:
        ctx.reap()
    return Result(case, True, "", ctx.last, time.monotonic() - started)


def run(kinds: tuple[str, ...], only: str | None, workers: int) -> Run:
    cases = [c for c in all_cases() if c.kind in kinds and (only is None or only in c.name)]
    cases.sort(key=lambda c: not c.slow)  # the slow ones first: the pool ends together
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="forecast-adversarial-"))
    try:
        shared = Shared.build(root / "shared", need_batch=any(c.uses_batch for c in cases))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_one, c, root, shared) for c in cases]
            results = []
            for f in futures:
                r = f.result()
                results.append(r)
                mark = "held  " if r.held else "BROKEN"
                print(f"{mark} {r.case.kind:9} {r.case.name:44} {r.seconds:6.1f} s"
                      + ("" if r.held else f"  {r.why}"), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    command = "PYTHONPATH=$PWD .venv/bin/python bench/adversarial.py " + " ".join(sys.argv[1:])
    return Run(results, time.monotonic() - started, command.strip())


def _tail(text: str, n: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else "…" + text[-n:]


def report(r: Run) -> str:
    held = Counter(x.case.kind for x in r.results if x.held)
    total = Counter(x.case.kind for x in r.results)
    commit = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%h %s"],
                            capture_output=True, text=True, check=False).stdout.strip()
    commit = commit if len(commit) <= 72 else commit[:71] + "…"
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked=no"],
                           capture_output=True, text=True, check=False).stdout.strip()
    lines = [
        "# Adversarial cases against the CLI (bench/adversarial.py)", "",
        f"    {r.command}", "",
        f"Finished {datetime.now(UTC).isoformat(timespec='seconds')} on {platform.node()} "
        f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}), commit {commit}"
        f"{' with uncommitted changes' if dirty else ''}; {len(r.results)} cases in "
        f"{r.seconds:.0f} s.", "",
        "| kind | held | total |", "|---|---|---|",
    ]
    for kind in KINDS:
        if total[kind]:
            lines.append(f"| {kind} | {held[kind]} | {total[kind]} |")
    lines.append(f"| **all** | **{sum(held.values())}** | **{len(r.results)}** |")
    broken = [x for x in r.results if not x.held]
    lines += ["", f"## Broken ({len(broken)})", ""]
    if not broken:
        lines.append("None.")
    for x in broken:
        p = x.proc
        seen = "" if p is None else (
            f" — exit {'timeout' if p.code is None else p.code} after {p.seconds:.1f} s; "
            f"stderr: `{_tail(p.err) or '(empty)'}`")
        lines.append(f"- **{x.case.kind} / {x.case.name}** ({x.case.expect}): {x.why}{seen}")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2, choices=(1, 2))
    ap.add_argument("--kind", action="append", choices=KINDS,
                    help="only this kind (repeatable); default: every kind")
    ap.add_argument("--only", help="only the cases whose name contains this text")
    ap.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.name}")
    args = ap.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    r = run(tuple(args.kind or KINDS), args.only, args.workers)
    text = report(r)
    print()
    print(text)
    if not args.no_write and not args.only and not args.kind:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")
        print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
