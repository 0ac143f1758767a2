"""``published`` as printed (``Dec. 15, 2016``, ``Contracts For Sept. 30, 2025``) → ISO 8601."""

from __future__ import annotations

from archiver.extract.dates import iso_date
from archiver.items import ArticleItem
from pipelines.base import ArticlePipeline


class PublishedDatePipeline(ArticlePipeline):
    """An unparseable date is left as printed: validation then rejects the record with it.

    Stats: ``archiver/dates/normalised``, ``archiver/dates/unparsed``.
    """

    stat_group = "dates"

    def process_article(self, item: ArticleItem) -> None:
        iso = iso_date(item.published)
        if iso is None:
            self.count("unparsed")
            return
        self.count("normalised", iso != item.published)
        item.published = iso
