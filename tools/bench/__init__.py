"""Benchmarks: our packages against upstream Tornado, side by side in one run.

Speed is measured here, never in tests.  Each workload is a standalone
script under ``workloads/`` that imports only what it measures, so the same
file runs under our workspace interpreter and under a throwaway virtual
environment holding upstream Tornado 6.6.1 (and Jinja2 as a second
reference).  The runner collects both figures and prints the ratios.
"""
