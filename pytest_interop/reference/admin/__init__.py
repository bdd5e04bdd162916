"""The reference cloud's own admin API: counters for benchmarks and leak tests."""
