"""`make bench`: what an update costs, how soon the workflow notices completion, and how it scales.

Run as ``python -m bench``. Prints a table, writes ``bench/results/bench.json`` and the polling plot
``bench/results/polling.png``. The goals are checked here and only here, never by timed tests.
"""
