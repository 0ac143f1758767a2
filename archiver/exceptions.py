"""Items left out on purpose: a Scrapy ``DropItem`` that is not a failure."""

from __future__ import annotations

from scrapy.exceptions import DropItem


class SkippedItem(DropItem):
    """An item left out on purpose (a duplicate, an unchanged article): counted, not a failure."""
