"""Benchmarks: each figure of the platform beside the raw ceiling of its parts, measured in one
run."""
