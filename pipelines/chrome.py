"""Site chrome out of the body; the historical-collection notice → ``historical: true``."""

from __future__ import annotations

from archiver.extract.text import NOTICE_SENTENCE_RE, is_chrome_line, is_notice
from archiver.items import ArticleItem, Block
from pipelines.base import ArticlePipeline

#: block kinds the extractor recognised as chrome by markup
CHROME_KINDS = frozenset({"chrome", "notice"})


class StripChromePipeline(ArticlePipeline):
    """Removes ``chrome`` / ``notice`` blocks and text blocks that are chrome wherever they stand
    (the gov banner lines, subscribe box, "Related Stories", a notice printed as a paragraph).

    Stats: ``archiver/chrome/blocks_removed``, ``archiver/chrome/historical``.
    """

    stat_group = "chrome"

    def process_article(self, item: ArticleItem) -> None:
        kept: list[Block] = []
        historical = False
        for block in item.blocks:
            if block.kind == "notice" or NOTICE_SENTENCE_RE.search(block.text):
                historical = historical or is_notice(block.text)
            elif block.kind not in CHROME_KINDS and not is_chrome_line(block.text):
                kept.append(block)
        self.count("blocks_removed", len(item.blocks) - len(kept))
        if historical:
            item.historical = True
            self.count("historical")
        item.blocks = kept
