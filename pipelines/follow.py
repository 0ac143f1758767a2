"""The "(Follow Jim Garamone on Twitter: @GaramoneDoDNews)" line out of the body."""

from __future__ import annotations

from archiver.extract.text import is_follow_line, strip_follow_tail
from archiver.items import ArticleItem, Block
from pipelines.base import ArticlePipeline


class FollowLinePipeline(ArticlePipeline):
    """Removes whole follow lines and a follow parenthetical ending a paragraph.

    Stats: ``archiver/follow/removed``, ``archiver/follow/trimmed``.
    """

    stat_group = "follow"

    def process_article(self, item: ArticleItem) -> None:
        kept: list[Block] = []
        for block in item.blocks:
            if block.kind == "follow" or (block.kind == "p" and is_follow_line(block.text)):
                self.count("removed")
                continue
            trimmed = strip_follow_tail(block.text) if block.kind == "p" else block.text
            if trimmed != block.text:
                self.count("trimmed")
                block = Block(block.kind, trimmed)
            kept.append(block)
        item.blocks = kept
