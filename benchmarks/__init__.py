"""Benchmarks for fastdicom (corpus generator, pytest-benchmark suites, compare script)."""
