"""Item pipelines: one small component per module."""
