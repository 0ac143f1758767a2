"""``body`` assembled from the blocks left: paragraphs, ``## `` subheadings, one blank line between."""

from __future__ import annotations

from archiver.items import ArticleItem
from pipelines.base import ArticlePipeline

BODY_KINDS = frozenset({"p", "h"})


class AssembleBodyPipeline(ArticlePipeline):
    """Runs after every pipeline that removes blocks; blocks of any other kind never reach ``body``.

    Stats: ``archiver/body/paragraphs``, ``archiver/body/subheadings``,
    ``archiver/body/other_blocks_dropped``, ``archiver/body/empty``.
    """

    stat_group = "body"

    def process_article(self, item: ArticleItem) -> None:
        parts = []
        for block in item.blocks:
            if block.kind == "h":
                parts.append(f"## {block.text}")
            elif block.kind == "p":
                parts.append(block.text)
        self.count("paragraphs", sum(b.kind == "p" for b in item.blocks))
        self.count("subheadings", sum(b.kind == "h" for b in item.blocks))
        self.count("other_blocks_dropped", sum(b.kind not in BODY_KINDS for b in item.blocks))
        item.body = "\n\n".join(parts)
        self.count("empty", not item.body)
