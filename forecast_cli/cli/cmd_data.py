"""``forecast validate``: check a CSV as ``train`` and ``predict`` would, without training.

No TensorFlow and no model: the data layer's checks, reported (tests inspect ``sys.modules``).
"""

# No `from __future__ import annotations`: Typer reads these signatures at every start, and
# annotations evaluated once, here, save it evaluating them as strings (~10 ms of --help).

import json
from typing import Annotated

import typer

from forecast_cli.cli.options import (
    READING,
    READING_PANEL,
    ConfigOpt,
    DataArg,
    Features,
    Given,
    Quiet,
    joined,
    json_flag,
    setting_option,
    shared,
)
from forecast_cli.errors import EXIT_DATA


@shared(READING, "reading")
def validate(
    data: DataArg,
    config: ConfigOpt = None,
    target: Annotated[list[str] | None, setting_option(
        "target", READING_PANEL, "Value column(s) to check, comma-separated or repeated.",
        default="all",
        metavar="COLS")] = None,
    features: Features = None,
    as_json: Annotated[bool, json_flag("Print the report as JSON.")] = False,
    quiet: Quiet = False,
    *,
    reading: Given,
) -> None:
    """Check DATA as `train` and `predict` would, without training: exit 0 usable, 65 not.

    Example: forecast validate sample_data/co2_monthly.csv
    """
    from forecast_cli.cli import render_validation
    from forecast_cli.data.frame import validate as run_validate
    from forecast_cli.settings import build_settings

    settings = build_settings({**reading, "target": joined(target),
                               "features": joined(features)}, config)
    report = run_validate(data, settings)
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    elif not quiet:
        render_validation.print_report(report)
    render_validation.write_problems(report, quiet)
    if not report.usable:
        raise typer.Exit(EXIT_DATA)
