"""An article reached through several URLs (legacy ``?ID=`` redirects, slugs, hosts) kept once."""

from __future__ import annotations

import hashlib
import logging
from typing import Self

from scrapy.exceptions import NotConfigured

from archiver.items import ArticleItem
from archiver.runtime.compact import id_key
from pipelines.base import ArticlePipeline, CrawlerLike, StatsLike
from pipelines.rejections import ArticleSkipped

logger = logging.getLogger(__name__)


def content_key(item: ArticleItem) -> int:
    """A 64-bit key of the article's title and text (BLAKE2b: the same in every process)."""
    digest = hashlib.blake2b(item.title.encode("utf-8", "surrogatepass"), digest_size=8)
    digest.update(b"\0")
    digest.update(item.body.encode("utf-8", "surrogatepass"))
    return int.from_bytes(digest.digest(), "big")


class DropDuplicatesPipeline(ArticlePipeline):
    """Drops a record that repeats one already kept: the same ``article_id`` **and** the same title
    and text (``ArticleSkipped``, stage ``duplicates``, reason ``duplicate of <id> (...)``, logged at
    INFO; a skip, not a failure: the article is in articles.jsonl from the other URL). Runs after
    validation, so only a valid record claims an id.

    A page whose id (canonical link, ``og:url``, its own markup) is already kept but whose title or
    text differ is another article carrying a wrong or reused id: it is kept, with the id the page
    gives and its own ``url`` (stat ``archiver/duplicates/same_id_other_text``, logged as a warning),
    so a page that names another article's id is never lost (docs/reliability.md).

    Memory: per kept id, the id as an int (archiver/runtime/compact.py: ~30 bytes) and a 64-bit key of its
    title and text, not its URL; the skip's reason names the id, which finds the kept record.

    Setting: ``ARCHIVER_DROP_DUPLICATES`` (default ``True``). Stats:
    ``archiver/duplicates/unique``, ``archiver/duplicates/dropped``,
    ``archiver/duplicates/same_id_other_text``.
    """

    stat_group = "duplicates"

    @classmethod
    def from_crawler(cls, crawler: CrawlerLike) -> Self:
        if not crawler.settings.getbool("ARCHIVER_DROP_DUPLICATES", True):
            raise NotConfigured("ARCHIVER_DROP_DUPLICATES is off")
        return cls(crawler.stats)

    def __init__(self, stats: StatsLike) -> None:
        super().__init__(stats)
        #: article id key -> the content key of each different article kept with that id
        self.kept: dict[int | str, int | tuple[int, ...]] = {}

    def process_article(self, item: ArticleItem) -> None:
        key, content = id_key(item.article_id), content_key(item)
        known = self.kept.get(key)
        if known is None:
            self.kept[key] = content
            self.count("unique")
            return
        contents = known if isinstance(known, tuple) else (known,)
        if content in contents:
            self.count("dropped")
            raise ArticleSkipped(item.url, "duplicates",
                                 f"duplicate of {item.article_id} (article {item.article_id} already kept "
                                 "from another URL of this crawl, with the same title and text)",
                                 item.article_id, log_level="INFO")
        self.kept[key] = (*contents, content)
        self.count("same_id_other_text")
        logger.warning("%s gives the id %s of an article already kept from another URL, with another "
                       "title or text: kept as well", item.url, item.article_id)
