"""`inspect`, `compare`, `report`: scores inside the bundle, runs side by side, the HTML page.

One tiny run is trained per module (``tiny_model``); compare and the escaping tests edit
copies of its metrics.json (plain JSON: what they read), never train again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from forecast_cli.errors import ConfigError, DataError, OutputError
from forecast_cli.pipeline.bundle_info import describe
from forecast_cli.pipeline.compare import compare
from forecast_cli.pipeline.report import build_page, chosen_series, write_report
from forecast_cli.pipeline.report_html import render
from forecast_cli.pipeline.run_view import read_run
from forecast_cli.pipeline.wording import date_words, headline, step_word
from tests.conftest import REPO, run_forecast

HEAVY = ("tensorflow", "keras", "sklearn")


@pytest.fixture(scope="module")
def run(tiny_model: tuple[Path, Path]) -> Path:
    """OUT of the module's tiny run (OUT/model is its bundle)."""
    return tiny_model[1].parent


def _copy_run(run: Path, dest: Path, **settings: object) -> Path:
    """A copy of ``run``'s latest run directory with ``settings`` changed in its metrics.json."""
    root = dest / "runs" / "0001"
    shutil.copytree((run / "latest").resolve(), root, symlinks=True)
    metrics = json.loads((root / "metrics.json").read_text())
    metrics["settings"].update(settings)
    (root / "metrics.json").write_text(json.dumps(metrics))
    return root


def test_the_bundle_carries_the_run_s_scores(run: Path, tmp_path: Path) -> None:
    metrics = json.loads((run / "metrics.json").read_text())
    manifest = json.loads((run / "model" / "manifest.json").read_text())
    assert "scores.json" in manifest["files"]
    assert json.loads((run / "model" / "scores.json").read_text()) == metrics
    copied = tmp_path / "copied-bundle"  # the shared run stays as it is
    shutil.copytree((run / "model").resolve(), copied)  # away from its metrics.json
    info = describe(copied)
    assert info["scores"]["test"] == metrics["test"]
    assert info["scores"]["intervals"] == metrics["intervals"]["test"]
    assert info["checks"] == {"checksums": "ok", "files": sorted(manifest["files"]),
                              "signature": "unsigned"}
    assert (info["network"]["lookback"], info["network"]["horizon"]) == (8, 4)
    assert (info["data"]["first"], info["data"]["last"]) == ("2020-01-01T00:00:00",
                                                             "2020-04-29T00:00:00")


def test_an_altered_scores_file_is_refused(run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "m"
    shutil.copytree((run / "model").resolve(), copy)
    scores = json.loads((copy / "scores.json").read_text())
    scores["test"]["model"]["mase"] = 0.01  # a flattering edit
    (copy / "scores.json").write_text(json.dumps(scores))
    proc = run_forecast("inspect", copy)
    assert proc.returncode == 65
    assert proc.stderr.strip() == (f"Error: {copy}: scores.json does not match its checksum in "
                                   "manifest.json: the bundle was altered or truncated; "
                                   "retrain or restore it.")


def test_the_three_commands_never_import_tensorflow(run: Path, tmp_path: Path) -> None:
    """inspect (text and JSON), compare and report in one process, then sys.modules."""
    page = tmp_path / "r.html"
    code = (
        "import sys\nfrom forecast_cli.cli.app import app\n"
        "for args in ([\"inspect\", R + \"/model\", \"--json\"], [\"inspect\", R],\n"
        "             [\"compare\", R, R + \"/latest\"], [\"report\", R, \"-o\", P]):\n"
        "    try:\n        app(args, standalone_mode=False)\n"
        "    except SystemExit as e:\n        assert not e.code, e.code\n"
        f"print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n")
    out = subprocess.run([sys.executable, "-c", f"R, P = {str(run)!r}, {str(page)!r}\n" + code],
                         capture_output=True, text=True, cwd=REPO, check=False, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout
    info = json.loads(out.stdout[: out.stdout.index("\n}\n") + 2])
    assert info["scores"]["test"] == json.loads((run / "metrics.json").read_text())["test"]
    assert "Test scores against the baselines" in out.stdout  # inspect's text tables
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_compare_shows_the_settings_that_differ_and_every_method(run: Path,
                                                                 tmp_path: Path) -> None:
    other = _copy_run(run, tmp_path / "b", lstm_units=32, dropout=0.3)
    metrics = json.loads((other / "metrics.json").read_text())
    metrics["test"]["ensemble"] = {"mase": 0.5}  # a method a newer run adds: shown, not refused
    (other / "metrics.json").write_text(json.dumps(metrics))
    result = compare([run, other])
    first = json.loads((run / "metrics.json").read_text())
    assert result["settings"] == {"lstm_units": [8, 32],
                                  "dropout": [first["settings"]["dropout"], 0.3]}
    assert result["scores"]["model mase"] == [first["test"]["model"]["mase"]] * 2
    assert result["scores"]["ensemble mase"] == [None, 0.5]
    assert [r["run"] for r in result["runs"]] == [str((run / "latest").resolve()), str(other)]


def test_a_run_dir_may_be_out_latest_or_runs_nnnn(run: Path, tmp_path: Path) -> None:
    roots = {read_run(p).root for p in (run, run / "latest", (run / "latest").resolve())}
    assert len(roots) == 1
    proc = run_forecast("compare", run, tmp_path)
    assert proc.returncode == 66
    assert proc.stderr.startswith(f"Error: {tmp_path}: not a training run (no metrics.json)")


def test_report_page_escapes_run_strings_and_fetches_nothing(run: Path, tmp_path: Path) -> None:
    evil = '<img src=x onerror=alert(1)>&"'
    root = _copy_run(run, tmp_path / "e", time_col=evil)
    metrics = json.loads((root / "metrics.json").read_text())
    metrics["data"]["file"] = evil + ".csv"
    (root / "metrics.json").write_text(json.dumps(metrics))
    html = render(build_page(read_run(root)))
    escaped = "&lt;img src=x onerror=alert(1)&gt;&amp;&quot;"
    assert "<img src=x" not in html
    assert html.count(escaped) == 4  # the title twice, the subtitle, the settings table
    assert "http://" not in html
    assert "https://" not in html
    assert "<link" not in html
    assert html.count("data:image/png;base64,") == 1
    mase = metrics["test"]["model"]["mase"]
    assert f"The LSTM&#x27;s MASE is {mase:.2f}" in html


def test_report_refuses_to_write_over_its_run_or_into_the_bundle(run: Path) -> None:
    for target in (run / "latest" / "metrics.json", run / "model" / "report.html"):
        with pytest.raises(OutputError):
            write_report(run, target)


def test_series_chosen_worst_first_or_as_asked() -> None:
    metrics = {"series": {sid: {"model": {"mase": m}} for sid, m in
                          (("a", 0.5), ("b", 2.0), ("c", None), ("d", 1.0), ("e", 3.0),
                           ("f", 0.1))}}
    assert chosen_series(metrics, None) == (
        ["e", "b", "d", "a"], "the 4 of 6 series with the largest LSTM MASE")
    assert chosen_series(metrics, ["f"]) == (["f"], "the series asked for")
    with pytest.raises(ConfigError, match="'zz' is not a series of this run"):
        chosen_series(metrics, ["zz"])


@pytest.mark.parametrize(("value", "freq", "words", "step"), [
    ("2001-12-01T00:00:00", "MS", "Dec 2001", "month"),
    ("2001-10-01", "QS-OCT", "2001 Q4", "quarter"),
    ("2001-01-01", "YS-JAN", "2001", "year"),
    ("2001-12-03", "D", "2001-12-03", "day"),
    ("2001-12-03 00:00", "h", "2001-12-03 00:00", "hour"),
    ("2001-12-03 14:30", "15min", "2001-12-03 14:30", "15 minutes"),
])
def test_dates_and_steps_in_words(value: str, freq: str, words: str, step: str) -> None:
    assert (date_words(value, freq), step_word(freq)) == (words, step)


def test_headline_says_which_wins() -> None:
    assert headline({"model": {"mase": 0.4}, "seasonal_naive": {"mase": 1.237}}).startswith(
        "The LSTM's MASE is 0.40 against seasonal naive's 1.24: it beats the baseline")
    assert "does not beat" in headline({"model": {"mase": 1.3}, "seasonal_naive": {"mase": 1.2}})


def _chromium() -> str:
    """The headless browser; CI installs it (.ci/run), elsewhere the test says why it skips."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        assert not os.environ.get("FORECAST_REQUIRE_CHROMIUM"), "CI installs chromium: .ci/run"
        pytest.skip("chromium is not installed (CI installs it: .ci/run; locally: "
                    "apt-get install -y chromium)")
    return found


def test_the_report_renders_in_a_browser(run: Path, tmp_path: Path) -> None:
    """The page as a manager sees it: headless Chromium's screenshot is page-sized, mostly
    white with ink, and shows the headline's blue bar and the figure's colours (not a blank
    page or an error page, which have neither)."""
    from PIL import Image

    page = write_report(run, tmp_path / "report.html")
    shot = tmp_path / "shot.png"
    proc = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", "--window-size=1000,1400",
                           f"--screenshot={shot}", page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=90, check=False,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)  # (1400, 1000, 3)
    assert pixels.shape == (1400, 1000, 3)
    white = (pixels > 245).all(axis=2).mean()
    assert 0.5 < white < 0.97, white  # a page with content, not blank, not a dark error page
    colours = {tuple(c) for c in (pixels // 32).reshape(-1, 3)}
    assert len(colours) > 30
    bar = np.abs(pixels - np.array([31, 119, 180])).max(axis=2) < 12  # the headline's #1f77b4
    assert bar.sum() > 500  # its 6 px border (and the LSTM line) are drawn
    ink = (pixels < 80).all(axis=2)
    assert ink[:200].sum() > 300  # the title's dark text at the top


def test_report_adds_a_backtest_report(run: Path, tmp_path: Path) -> None:
    """Two folds whose MASE are given: the page pools them in a table and draws the folds."""
    folds = [{"fold": k + 1, "first_target": f"2020-0{k + 4}-01T00:00:00",
              "scores": {"model": {"mase": 0.5 + k}, "seasonal_naive": {"mase": 1.25}}}
             for k in range(2)]
    bt = tmp_path / "bt.json"
    bt.write_text(json.dumps({"folds": folds, "overall": {"model": {"mase": 1.0, "mae": 2.0},
                                                          "seasonal_naive": {"mase": 1.25}}}))
    html = write_report(run, tmp_path / "r.html", backtest=bt).read_text()
    assert html.count("data:image/png;base64,") == 2
    table = html[html.index("<h2>Backtest</h2>"):]
    assert "<td>LSTM</td><td>1</td><td>2</td>" in table
    bt.write_text('{"overall": {}}')
    with pytest.raises(DataError, match="is not a `forecast backtest --json` report"):
        write_report(run, tmp_path / "r.html", backtest=bt)


def test_a_bundle_from_before_scores_travelled_inspects_without_them(run: Path,
                                                                     tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree((run / "model").resolve(), old)
    (old / "scores.json").unlink()
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["files"]["scores.json"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    info = describe(old)
    assert info["scores"] is None
    assert "scores.json" not in info["checks"]["files"]
