"""The per-page CSS index (archiver/extract/css.py) answers every selector of the ladders as lxml's
cssselect does, on every fixture page, for the container, the head and elements inside them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archiver.extract import selectors as sel
from archiver.extract.css import parse
from archiver.extract.dom import select
from archiver.extract.page import ArticlePage

FIXTURES = Path(__file__).parent / "fixtures"


def queries() -> list[str]:
    """Every CSS query the extractor asks (ladder steps, regions, media, notices), once each."""
    found: list[str] = [*sel.CONTAINER, *sel.NOTICE, *sel.PHOTOS, *sel.NOT_PHOTOS, *sel.VIDEOS,
                        sel.POPUP, ".related, .media-inline, .gallery", ".presenterinfoType", "title"]
    for ladders in sel.FIELDS.values():
        for ladder in ladders.values():
            found += [step.query for step in ladder if step.source not in {"jsonld", "script"}]
    for regions in sel.REGIONS.values():
        for region_queries in regions.values():
            found += region_queries
    for ladder in (sel.POPUP_SRC, sel.PHOTO_TITLE, sel.PHOTO_CAPTION, sel.PHOTO_CREDIT, sel.PHOTO_VIRIN,
                   sel.PHOTO_ALT, sel.VIDEO_SRC, sel.VIDEO_TITLE, sel.VIDEO_DURATION):
        found += [step.query for step in ladder]
    # attribute-only compounds meet the lazy per-attribute index
    found += ["[itemprop]", "[itemprop=datePublished]", "[class*=title]", "a[href^='/News']",
              "[data-src], img[src$='.jpg']", "div > [itemprop=author]"]
    return list(dict.fromkeys(found))


def pages() -> list[ArticlePage]:
    found = []
    for info_path in sorted(FIXTURES.glob("*/*/info.json")):
        info = json.loads(info_path.read_text("utf-8"))
        if "url" not in info:
            continue
        page = ArticlePage.parse(info["url"], (info_path.parent / "body.html").read_bytes(),
                                 info.get("headers", {}))
        if page is not None:
            found.append(page)
    return found


@pytest.fixture(scope="module")
def fixture_pages() -> list[ArticlePage]:
    return pages()


@pytest.mark.parametrize("query", queries())
def test_the_index_answers_as_cssselect(query: str, fixture_pages: list[ArticlePage]) -> None:
    assert parse(query) is not None, query  # the index answers it itself, not through the fallback
    checked = 0
    for page in fixture_pages:
        for index, scope in ((page.index, page.container), (page.head_index, page.head)):
            inner = [scope, *[e for e in scope.iterdescendants() if e.get("class")][:5]]
            for element in inner:
                assert index.select(element, query) == select(element, query), (page.url, query)
                checked += 1
    assert checked > 100
