"""``forecast inspect``, ``forecast compare`` and ``forecast report``: runs and bundles for people.

Each reads files only (no data file, no TensorFlow) and calls one library function of
``forecast_cli.pipeline``: ``bundle_info.describe``, ``compare.compare``,
``report.write_report``.
"""

# No `from __future__ import annotations`: Typer reads these signatures at every start.

import json
from pathlib import Path
from typing import Annotated

import typer

from forecast_cli.cli.options import json_flag, with_default

RunDir = Annotated[Path, typer.Argument(
    help="A training run: OUT (its latest run), OUT/latest or OUT/runs/NNNN.",
    metavar="RUN_DIR", show_default=False)]


def inspect(
    model: Annotated[Path, typer.Argument(
        help="A model bundle (OUT/model, a batch job's versions/vNNNN/model), or a run "
             "directory holding one.", metavar="MODEL", show_default=False)],
    as_json: Annotated[bool, json_flag("Print everything as JSON.")] = False,
) -> None:
    """Say what a model bundle is: data, settings, scores against the baselines, checks.

    A partitioned model (train --partitions): its partitions, their series and scores.

    The bundle is verified as predict verifies it (checksums, signature, every field); its
    scores travel inside it (scores.json), so a copied bundle still shows them.

    Example: forecast inspect runs/co2/model
    """
    from forecast_cli.cli import render
    from forecast_cli.cli.render_report import inspect_lines
    from forecast_cli.pipeline.bundle_info import describe
    from forecast_cli.pipeline.partition_index import is_partitioned

    if is_partitioned(model):
        from forecast_cli.cli.render_partitions import inspect_partitioned

        inspect_partitioned(model, as_json)
        return
    info = describe(model)
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    for warning in info["warnings"]:
        render.message(f"Warning: {warning}")
    for item in inspect_lines(info):
        render.stdout().print(item)


def compare(
    runs: Annotated[list[Path], typer.Argument(
        help="Two or more training runs (OUT, OUT/latest or OUT/runs/NNNN).",
        metavar="RUN_DIR...", show_default=False)],
    as_json: Annotated[bool, json_flag("Print the comparison as JSON.")] = False,
) -> None:
    """One table of the runs' settings that differ, and their test scores.

    Example: forecast compare runs/co2/runs/0001 runs/co2/runs/0002
    """
    from forecast_cli.cli import render
    from forecast_cli.cli.render_report import compare_table
    from forecast_cli.pipeline.compare import compare as run_compare
    from forecast_cli.pipeline.partition_info import refuse

    for run in runs:
        refuse(run, "compare")
    result = run_compare(runs)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    render.stdout().print(compare_table(result))


def report(
    run: RunDir,
    out: Annotated[Path, typer.Option(
        "--out", "-o", metavar="FILE", help="The HTML file to write (a regular file, replaced "
        "atomically).", show_default=False)],
    series: Annotated[str | None, typer.Option(
        metavar="IDS", help=with_default("Series to draw, comma-separated (a many-series run).",
                                         "the 4 with the largest LSTM MASE"),
        show_default=False)] = None,
    backtest: Annotated[Path | None, typer.Option(
        metavar="FILE", help=with_default("A `forecast backtest --json` report of the same data "
                                          "to add: per-fold scores and their figure.", "none"),
        show_default=False)] = None,
) -> None:
    """Write one self-contained HTML page about a run, for people who never open a terminal.

    Headline, scores against the baselines, interval coverage, the forecast figure, per-series
    scores worst first, settings. Images and CSS are inline: the page fetches nothing.

    Example: forecast report runs/co2 -o co2-report.html
    """
    from forecast_cli.cli import render
    from forecast_cli.pipeline.partition_info import refuse
    from forecast_cli.pipeline.report import write_report

    refuse(run, "report")
    wanted = [s.strip() for s in series.split(",") if s.strip()] if series else None
    path = write_report(run, out, wanted, backtest)
    render.message(f"Report written to {path}")
