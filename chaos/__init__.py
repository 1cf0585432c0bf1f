"""The fault-injection suite (`./dev chaos`): scenarios that break things on purpose and count
what the platform's guarantees say must be zero."""
