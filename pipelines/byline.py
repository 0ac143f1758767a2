"""Byline → ``authors``: names without "By" and without the organisation suffix."""

from __future__ import annotations

from archiver.extract.text import parse_byline
from archiver.items import ArticleItem
from pipelines.base import ArticlePipeline

#: content types whose people are presenters or issuers, never authors (DESIGN.md)
NO_AUTHORS = frozenset({"release", "transcript"})


class BylinePipeline(ArticlePipeline):
    """``By Jane Doe, DOD News`` → ``["Jane Doe"]``; ``[]`` for releases and transcripts.

    Stats: ``archiver/byline/authors``, ``archiver/byline/missing``, ``archiver/byline/ignored``.
    """

    stat_group = "byline"

    def process_article(self, item: ArticleItem) -> None:
        if item.content_type in NO_AUTHORS:
            self.count("ignored", bool(item.byline or item.authors))
            item.authors = []
            return
        if not item.authors:
            item.authors = parse_byline(item.byline)
        self.count("authors", len(item.authors))
        self.count("missing", not item.authors)
