"""Whitespace and non-breaking spaces collapsed in every text field; empty blocks dropped."""

from __future__ import annotations

from typing import Any

from archiver.extract.text import collapse_lines, collapse_space
from archiver.items import ArticleItem, Block
from pipelines.base import ArticlePipeline

_SCALARS = ("url", "canonical_url", "article_id", "content_type", "title", "published", "fetched_at")


class NormaliseWhitespacePipeline(ArticlePipeline):
    """First of the chain, so every later text rule compares normalised strings.

    Stats: ``archiver/whitespace/strings_changed``, ``archiver/whitespace/empty_blocks``.
    """

    stat_group = "whitespace"

    def process_article(self, item: ArticleItem) -> None:
        changed = 0
        for name in _SCALARS:
            old = getattr(item, name)
            new = collapse_space(old)
            changed += new != old
            setattr(item, name, new)
        item.byline = collapse_lines(item.byline)
        item.images = [{k: collapse_space(v) for k, v in image.items()} for image in item.images]
        item.related = [{k: collapse_space(v) for k, v in link.items()} for link in item.related]
        item.videos = [_collapse_values(video) for video in item.videos]
        item.tags = list(dict.fromkeys(t for t in (collapse_space(t) for t in item.tags) if t))
        blocks = [Block(b.kind, collapse_space(b.text)) for b in item.blocks]
        kept = [b for b in blocks if b.text]
        changed += sum(old.text != new.text for old, new in zip(item.blocks, blocks, strict=True))
        self.count("empty_blocks", len(blocks) - len(kept))
        self.count("strings_changed", changed)
        item.blocks = kept


def _collapse_values(record: dict[str, Any]) -> dict[str, Any]:
    return {k: collapse_space(v) if isinstance(v, str) else v for k, v in record.items()}
