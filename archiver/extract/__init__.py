"""Article extraction: pure functions over url + bytes + headers (no Scrapy here).

``extract_article`` turns one fetched page into an :class:`~archiver.items.ArticleItem` holding the
page's raw material (fields as printed, body as labelled blocks, the byline as printed); the item
pipelines (``pipelines/``, run in a crawl, or in plain Python by :mod:`pipelines.chain`) turn it
into the cleaned record; :func:`pipelines.chain.extract_record` does both. Nothing here imports
Scrapy or the pipelines (tests/test_layout.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from archiver.extract.page import ArticlePage
from archiver.items import ArticleItem
from archiver.site import legacy_id_of

#: bumps whenever extraction or pipeline output changes for the same input bytes
EXTRACTOR_VERSION = "1.1.0"

__all__ = ["EXTRACTOR_VERSION", "ArticlePage", "extract_article", "refusal_reason"]


def extract_article(url: str, body: bytes, headers: Mapping[str, str] | None = None,
                    fetched_at: str = "") -> ArticleItem | None:
    """The article item of one page, or ``None`` when the page is not an article page.

    ``url`` is the URL fetched (after redirects), ``headers`` the response headers (for the
    charset), ``fetched_at`` the ISO 8601 UTC time of the response.
    """
    page = ArticlePage.parse(url, body, headers)
    if page is None:
        return None
    article_id = page.article_id()
    return ArticleItem(
        url=page.url,  # a web archive's playback URL is the original site's
        canonical_url=page.canonical_url(),
        article_id=article_id,
        content_type=page.content_type(),
        title=page.title(),
        published=page.published(),
        images=page.images(),
        videos=page.videos(),
        tags=page.tags(),
        related=page.related(),
        fetched_at=fetched_at,
        extractor_version=EXTRACTOR_VERSION,
        blocks=page.blocks(),
        byline=page.byline(),
        markup_era=page.markup_era(),
        legacy_id=legacy_id_of(article_id),
    )


def refusal_reason(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> str:
    """Why ``extract_article`` finds no article in the page (``""`` when it finds one)."""
    found = ArticlePage.read(url, body, headers)
    return found if isinstance(found, str) else ""
