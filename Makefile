# Everything runs inside .venv, created on first use from the system python3 (≥ 3.11).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.dev-stamp
DEMO   ?= runs/demo

.PHONY: demo test lint typecheck venv clean

# Two stamps: `make demo` installs what a user runs (the runtime dependencies only); `make test`
# and `make lint` add the development tools (pytest, ruff, mypy) on top.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "forecast needs Python >= 3.11; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(DEV_STAMP)

venv: $(DEV_STAMP)

demo: $(STAMP)
	$(BIN)/forecast train sample_data/co2_monthly.csv --output-dir $(DEMO)
	$(BIN)/forecast predict --model $(DEMO)/model sample_data/co2_monthly.csv --out $(DEMO)/forecast.csv
	@echo
	@echo "Demo outputs in $(DEMO)/:"
	@echo "  model/              model bundle (weights, config.json, scaler.json, manifest.json)"
	@echo "  metrics.json        test-period scores of the LSTM and the naive baselines"
	@echo "  test_forecasts.csv  every test window's forecasts beside the actuals"
	@echo "  history.csv         loss and val_loss per epoch"
	@echo "  (those four: links to the latest run, runs/NNNN, kept with earlier runs)"
	@echo "  forecast.csv        the next 12 months after the data"
	@cat $(DEMO)/forecast.csv

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider tests/test_layers.py  # imports point down only

test: lint
	$(BIN)/pytest -n 2 --dist loadgroup --durations=15  # groups: tests/conftest.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
