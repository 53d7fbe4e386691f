"""Benchmark suites: run every script of ``benchmarks/`` into one ``results.json``.

:func:`run_suite` (``biomodels bench``) runs a suite of :mod:`biomodels.bench.suites`; the page is
drawn by :func:`biomodels.report.bench.write_dashboard`.
"""

from biomodels.bench.run import run_suite
from biomodels.bench.suites import BENCHMARKS, SUITES, Benchmark, discover

__all__ = ["BENCHMARKS", "SUITES", "Benchmark", "discover", "run_suite"]
