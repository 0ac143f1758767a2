"""The crawl runtime: one crawl's output folder, its lock and state, and what runs around the engine."""
