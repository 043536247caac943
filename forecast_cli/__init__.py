"""forecast: LSTM time-series forecasting from CSV files, as a library and a CLI."""

__version__ = "0.1.0"
