"""A local, deterministic replica of defense.gov (see docs/replica.md)."""
