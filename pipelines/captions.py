"""Each photo once: its caption, title, alt, credit and VIRIN out of the body, duplicate photos out.

A photo's texts are matched to the photo and removed from the body blocks wherever they appear:
blocks the extractor labelled (``caption``, ``media-title``, ``credit``, ``virin``), any block
whose text *is* a caption or alt text of a photo of this page (long, distinctive strings), any
``Photo By: …`` / ``VIRIN: …`` line, and a photo's short texts (title, credit, VIRIN) when they
stand next to one of those (a caption cluster), so that a subheading that happens to equal a photo
title elsewhere in the article survives.
"""

from __future__ import annotations

from archiver.extract.text import CREDIT_LINE_RE, VIRIN_LINE_RE
from archiver.items import ArticleItem, Block
from pipelines.base import ArticlePipeline

CAPTION_KINDS = frozenset({"caption", "media-title", "credit", "virin"})
#: a caption or alt shorter than this is matched only inside a caption cluster
MIN_DISTINCT_CHARS = 40


class DedupeCaptionsPipeline(ArticlePipeline):
    """Stats: ``archiver/captions/removed`` (blocks), ``archiver/captions/images``,
    ``archiver/captions/duplicate_images``."""

    stat_group = "captions"

    def process_article(self, item: ArticleItem) -> None:
        images = _unique_images(item.images)
        self.count("duplicate_images", len(item.images) - len(images))
        item.images = images
        self.count("images", len(images))
        marked = _caption_blocks(item.blocks, images)
        self.count("removed", sum(marked))
        item.blocks = [b for b, m in zip(item.blocks, marked, strict=True) if not m]


def _unique_images(images: list[dict[str, str]]) -> list[dict[str, str]]:
    """Each photo once (same full-size URL or same VIRIN = same photo), first place kept."""
    seen: set[str] = set()
    unique = []
    for image in images:
        keys = {k for k in (image.get("src", ""), "virin:" + image.get("virin", "")) if k and k != "virin:"}
        if keys & seen:
            continue
        seen |= keys
        unique.append(image)
    return unique


def _caption_blocks(blocks: list[Block], images: list[dict[str, str]]) -> list[bool]:
    distinct, short = _image_texts(images)
    marked = [
        b.kind in CAPTION_KINDS or b.text in distinct
        or bool(CREDIT_LINE_RE.match(b.text) or VIRIN_LINE_RE.match(b.text))
        for b in blocks
    ]
    changed = True
    while changed:  # grow clusters over adjacent short texts (popup title between copies)
        changed = False
        for i, block in enumerate(blocks):
            if marked[i] or block.text not in short:
                continue
            if (i > 0 and marked[i - 1]) or (i + 1 < len(blocks) and marked[i + 1]):
                marked[i] = changed = True
    return marked


def _image_texts(images: list[dict[str, str]]) -> tuple[set[str], set[str]]:
    distinct: set[str] = set()
    short: set[str] = set()
    for image in images:
        for key in ("caption", "alt"):
            text = image.get(key, "")
            (distinct if len(text) >= MIN_DISTINCT_CHARS else short).add(text)
        credit, virin = image.get("credit", ""), image.get("virin", "")
        short |= {image.get("title", ""), credit, virin, f"Photo By: {credit}", f"VIRIN: {virin}"}
    return distinct - {""}, short - {""}
