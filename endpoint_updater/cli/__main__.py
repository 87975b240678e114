"""`python -m endpoint_updater.cli`: the same command as `endpoint-updater`."""

from endpoint_updater.cli.main import run

run()
