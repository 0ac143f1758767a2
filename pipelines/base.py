"""What the article pipelines share, with no Scrapy import: the stats/settings/crawler shapes they
use, a base class, and the plain-Python stand-ins the offline chain gives them.

A crawl hands the pipelines Scrapy's own ``crawler`` (``crawler.stats`` is a ``StatsCollector``,
``crawler.settings`` a ``Settings``); :mod:`pipelines.chain` hands them an
:class:`OfflineCrawler` with a :class:`DictStats` and :class:`OfflineSettings`. Both go through
the same ``from_crawler``, so a crawl and an offline re-extraction configure the pipelines alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, Self

from archiver.items import ArticleItem, Prepared  # noqa: F401  (Prepared: re-exported)

STATS_NAMESPACE = "archiver"


class StatsLike(Protocol):
    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


class SettingsLike(Protocol):
    def getbool(self, name: str, default: bool = False) -> bool: ...


class CrawlerLike(Protocol):
    @property
    def stats(self) -> StatsLike: ...

    @property
    def settings(self) -> SettingsLike: ...


@dataclass
class DictStats:
    """A tiny stats collector (the subset of Scrapy's ``StatsCollector`` the pipelines use)."""

    values: dict[str, Any] = field(default_factory=dict)

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count

    def get_value(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def get_stats(self) -> dict[str, Any]:
        return dict(self.values)


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


@dataclass(frozen=True)
class OfflineSettings:
    """Settings from a plain mapping, read with Scrapy's typed-getter semantics."""

    values: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def getbool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name, default)
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"setting {name}={value!r} is not a boolean")


@dataclass
class OfflineCrawler:
    """What ``from_crawler`` reads, outside Scrapy."""

    settings: OfflineSettings = field(default_factory=OfflineSettings)
    stats: DictStats = field(default_factory=DictStats)


def class_path(cls: type) -> str:
    """``package.module.Class``, as ``ITEM_PIPELINES`` names a class."""
    return f"{cls.__module__}.{cls.__qualname__}"


def image_sources(item: ArticleItem) -> tuple[str, ...]:
    """The ``src`` of each photo of the item that has one, in page order."""
    return tuple(image["src"] for image in item.images if image.get("src"))


class ArticlePipeline:
    """Base of the article pipelines: passes other items through, counts namespaced stats.

    Subclasses set ``stat_group`` (stats are ``archiver/<stat_group>/<name>``) and implement
    :meth:`process_article`, which changes the item in place or raises ``DropItem``.
    """

    stat_group: ClassVar[str] = "pipeline"
    #: the class's path, as ``ITEM_PIPELINES`` and ``Prepared.applied`` name it
    path: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.path = class_path(cls)

    def __init__(self, stats: StatsLike) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: CrawlerLike) -> Self:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Scrapy ≥ 2.14 signature (no spider argument)."""
        if isinstance(item, ArticleItem):
            prepared = item.prepared
            if prepared is not None and self.path in prepared.applied:
                if not prepared.counted:  # the first of them: the stats count once the item is here
                    prepared.counted = True
                    for key, value in prepared.stats.items():
                        self.stats.inc_value(key, value)
                if prepared.dropped is not None and prepared.dropped_by == self.path:
                    raise prepared.dropped
                return item  # this pipeline already ran on it, in an extraction worker
            self.process_article(item)
        return item

    def process_article(self, item: ArticleItem) -> None:
        raise NotImplementedError

    def count(self, name: str, value: int = 1) -> None:
        if value:
            self.stats.inc_value(f"{STATS_NAMESPACE}/{self.stat_group}/{name}", value)
