"""Old home of the date helpers: they live in :mod:`archiver.extract.dates` (one parser for the
whole product); these names stay importable from here."""

from __future__ import annotations

from archiver.extract.dates import in_range, iso_date, parse_date

__all__ = ["in_range", "iso_date", "parse_date"]
