"""``python -m forecast_cli`` is the same as the ``forecast`` command."""

from forecast_cli.cli.app import main

main()
