"""``forecast batch`` and ``forecast history``: unattended runs from a TOML batch file (cron).

The commands call ``forecast_cli.ops``; a failed job is one ``Error:`` line, not an exception.
"""

# No `from __future__ import annotations`: Typer reads these signatures at every start, and
# annotations evaluated once, here, save it evaluating them as strings (~10 ms of --help).

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from forecast_cli.cli.exits import error
from forecast_cli.cli.options import json_flag, with_default

StateDir = Annotated[Path | None, typer.Option(
    "--state-dir", metavar="DIR", show_default=False, help=with_default(
        "Where the run history, batch.log, locks and training backups live.",
        "$FORECAST_STATE_DIR, else the batch file's state_dir, else .forecast-state beside "
        "it"))]


def batch(
    jobs_file: Annotated[Path, typer.Argument(help="TOML batch file: one table per job.",
                                              metavar="JOBS_FILE", show_default=False)],
    wait: Annotated[float, typer.Option(min=0, max=86_400, metavar="SECONDS", help="Seconds to "
                                        "wait for a lock held by another run before giving up "
                                        "(exit 75).")] = 0.0,
    job_time_limit: Annotated[float | None, typer.Option(
        min=1, max=604_800, metavar="SECONDS", help=with_default(
            "Seconds any job may run before it is stopped and fails alone, over every job's "
            "`time_limit`.", "the job's time_limit, else 3600"), show_default=False)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", metavar="",
                                          help="Say what each job does on stderr.")] = False,
    as_json: Annotated[bool, json_flag("Print a JSON summary per job to stdout.")] = False,
    state_dir: StateDir = None,
    # --- Dask cluster (ops/cluster.py; docs/scaling.md) ---
    cluster: Annotated[str | None, typer.Option(
        "--cluster", metavar="tcp://HOST:PORT", show_default=False, help=with_default(
            "Run each job as a task of this Dask scheduler's workers.",
            "$FORECAST_CLUSTER, else the batch file's cluster, else in this process"))] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, max=256, metavar="N", show_default=False, help=with_default(
            "Run the jobs on a local Dask cluster of N worker processes.",
            "no local cluster"))] = None,
) -> None:
    """Run every job of JOBS_FILE unattended (cron): retrain per policy, forecast, score.

    Silent on success. Exit codes: 0 every job succeeded, 1 a job failed or exceeded its time
    limit (one stderr line each), 75 another run holds the lock, 2/66 the batch file is
    invalid/missing, 69 the --cluster scheduler cannot be reached. See docs/scheduling.md and
    docs/scaling.md.

    Example: forecast batch jobs.toml

    From cron: 0 6 * * * cd /srv/fc && forecast batch jobs.toml
    """
    from forecast_cli.cli import render
    from forecast_cli.cli.progress import steps
    from forecast_cli.cli.render_batch import failure_lines
    from forecast_cli.ops.batch import run_batch, summary_json

    with steps("job", None, enabled=True) as advance:  # a terminal only: cron stays silent
        result = run_batch(jobs_file, wait, state_dir, log=render.message if verbose else None,
                           time_limit=job_time_limit, on_job=None if advance is None else
                           lambda done, total, name: advance(done, total, name),
                           cluster_address=cluster, workers=workers)
    for line in failure_lines(result):
        error(line)
    if as_json:
        sys.stdout.write(summary_json(result))
    raise typer.Exit(result.exit_code)


def history(
    jobs_file: Annotated[Path | None, typer.Argument(help="Batch file whose history to show.",
                                                     metavar="JOBS_FILE",
                                                     show_default=False)] = None,
    job: Annotated[str | None, typer.Option(help=with_default("Only this job.", "every job"),
                                            metavar="NAME",
                                            show_default=False)] = None,
    limit: Annotated[int, typer.Option(min=1, metavar="N", help="Runs shown per job.")] = 10,
    as_json: Annotated[bool, json_flag("Print JSON instead of tables.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Show the last batch runs per job and the realised accuracy of earlier forecasts.

    Example: forecast history jobs.toml --job sales
    """
    from forecast_cli.cli import render
    from forecast_cli.cli.render_batch import accuracy_table, runs_table
    from forecast_cli.ops.history import report
    from forecast_cli.ops.jobs import state_dir_for

    data = report(state_dir_for(state_dir, jobs_file), job, limit)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    render.stdout().print(runs_table(data["runs"]))
    render.stdout().print(accuracy_table(data["accuracy"]))
