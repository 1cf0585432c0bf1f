"""The kernel every service runs on: event store, outbox, consumers, projections, HTTP,
operations."""
