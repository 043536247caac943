"""The options of the figures for people (issue 17): which panels a many-series --plot draws.

Kept apart from ``options`` (the settings' flags): a figure's panels are not a setting, they
change nothing the model computes, so they reach neither ``--config`` nor batch jobs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from forecast_cli.cli.options import OUTPUT_PANEL, with_default

PlotSeriesOpt = Annotated[str | None, typer.Option(
    "--plot-series", metavar="IDS", rich_help_panel=OUTPUT_PANEL, show_default=False,
    help=with_default("The series --plot draws (comma-separated, at most 4).",
                      "the 4 with the largest LSTM MASE"))]


def plot_series(value: str | None) -> tuple[str, ...] | None:
    """``--plot-series a,b`` as a tuple of ids (None: the figure's default choice)."""
    return tuple(x.strip() for x in value.split(",") if x.strip()) if value else None
