"""Spiders: one per discovery strategy (section listings, RSS, sitemaps, id lists). Thin."""
