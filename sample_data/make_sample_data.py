"""Regenerate the CSV files in sample_data/ from series that ship inside statsmodels.

Run: python sample_data/make_sample_data.py   (needs `pip install statsmodels`; no network)
The committed CSVs are the output; this script documents exactly how they were derived.
"""

from __future__ import annotations

from pathlib import Path

import statsmodels.datasets as datasets

HERE = Path(__file__).resolve().parent


def co2_monthly() -> None:
    """Mauna Loa CO2 (ppmv), weekly 1958-03 … 2001-12 → calendar-month means from 1964-05.

    The weekly series has 59 missing weeks. Five months have no observation at all, the last
    in April 1964; from May 1964 on every month has at least one, so the monthly mean of the
    observed weeks is complete and nothing has to be invented by filling.
    """
    weekly = datasets.co2.load_pandas().data["co2"]
    monthly = weekly.resample("MS").mean().loc["1964-05-01":]
    assert monthly.notna().all(), "a month without any observation"
    frame = monthly.round(3).rename("co2").to_frame()
    frame.index.name = "month"
    frame.to_csv(HERE / "co2_monthly.csv", date_format="%Y-%m-%d")


MACRO_SERIES = ("realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "pop")


def macro_quarterly_long() -> None:
    """US quarterly macro series 1959Q1 … 2009Q3 (statsmodels ``macrodata``), long format.

    Eight level series (real GDP, consumption, investment, government spending, disposable
    income, CPI, M1, population) stacked as (series, quarter, value): 8 × 203 rows, quarters
    as their first day. Public domain (FRED, Federal Reserve Bank of St. Louis).
    """
    import pandas as pd

    wide = datasets.macrodata.load_pandas().data
    quarter = pd.PeriodIndex.from_fields(year=wide["year"].astype(int),
                                         quarter=wide["quarter"].astype(int), freq="Q")
    wide = wide.assign(quarter=quarter.to_timestamp(how="start").strftime("%Y-%m-%d"))
    long = wide.melt(id_vars="quarter", value_vars=list(MACRO_SERIES), var_name="series",
                     value_name="value")
    long[["series", "quarter", "value"]].to_csv(HERE / "macro_quarterly_long.csv", index=False)


if __name__ == "__main__":
    co2_monthly()
    macro_quarterly_long()
