"""Incremental paging: fetch listing page N+1 only while listing pages still hold changes.

In an incremental crawl a section's listing is read one page at a time: the next page is asked
for once every article of the current page has answered, and only if at least one of them was
new or changed, or fewer than ``stop_after`` pages in a row held nothing but unchanged articles
(304 Not Modified, or the same payload as the last capture). Framework-free: it hands back
whatever "next page" object it was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

Next = TypeVar("Next")


@dataclass
class _Page(Generic[Next]):
    pending: set[str]
    next_page: Next | None
    changed: bool = False


@dataclass
class IncrementalPaging(Generic[Next]):
    """Per-section bookkeeping of listing pages waiting for their articles' outcomes."""

    stop_after: int = 1
    streaks: dict[str, int] = field(default_factory=dict)
    pages: dict[tuple[str, int], _Page[Next]] = field(default_factory=dict)
    stopped: set[str] = field(default_factory=set)

    def open_page(self, section: str, page: int, urls: list[str], next_page: Next | None) -> Next | None:
        """Register a listing page's article URLs; returns the next page at once if none are pending."""
        self.pages[(section, page)] = _Page(set(urls), next_page)
        return self._maybe_close(section, page) if not urls else None

    def settle(self, section: str, page: int, url: str, changed: bool) -> Next | None:
        """An article of the page answered; returns the next page when it is time to ask for it."""
        entry = self.pages.get((section, page))
        if entry is None:
            return None
        entry.pending.discard(url)
        entry.changed |= changed
        return self._maybe_close(section, page) if not entry.pending else None

    def _maybe_close(self, section: str, page: int) -> Next | None:
        entry = self.pages.pop((section, page))
        streak = 0 if entry.changed else self.streaks.get(section, 0) + 1
        self.streaks[section] = streak
        if streak >= self.stop_after:
            self.stopped.add(section)
            return None
        return entry.next_page
