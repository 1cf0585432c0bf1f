"""The kernel every aap service stands on: contracts, envelope, event store, outbox, consumers."""
