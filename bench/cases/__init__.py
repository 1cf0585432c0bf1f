"""The bench's cases, one module each: `measure(bench) -> Outcome`."""
