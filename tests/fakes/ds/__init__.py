"""A local Démarches Simplifiées API v2 for tests and benchmarks: see README.md."""
