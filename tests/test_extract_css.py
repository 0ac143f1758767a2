"""The per-page CSS index (archiver/extract/css.py) answers every selector of the ladders as lxml's
cssselect does, on every fixture page, for the container, the head and elements inside them."""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from archiver.extract import selectors as sel
from archiver.extract.css import parse, select_each
from archiver.extract.dom import iter_select, select
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


def test_iter_select_finds_what_cssselect_finds(fixture_pages: list[ArticlePage]) -> None:
    """``iter_select`` walks ``tag.class`` itself: classes split on XML whitespace only, as the
    XPath of cssselect does (a no-break space or a form feed joins two words into one token)."""
    odd = lxml.html.fromstring(
        "<html><body><div class='x\tadetail'>1</div><div class='x\xa0adetail'>2</div>"
        "<div class='\fadetail'>3</div><div class='adetailed'>4</div><p class='adetail'>5</p>"
        "<div class='  adetail\n'>6<div class='adetail other'>7</div></div></body></html>")
    roots = [odd, *(page.root for page in fixture_pages)]
    for root in roots:
        for query in ("div.adetail", *sel.CONTAINER):
            assert list(iter_select(root, query)) == select(root, query), query
    assert [e.text for e in iter_select(odd, "div.adetail")] == ["1", "6", "7"]


def test_select_each_finds_what_cssselect_finds(fixture_pages: list[ArticlePage]) -> None:
    """The container ladders past their first step, asked in one walk, answer as each query does."""
    odd = lxml.html.fromstring(
        "<html><body><span id='ctl00_lblArticleContent'>1</span><td id='tdArticle'>2</td>"
        "<div id='tdArticleX'>3</div><div itemtype='http://schema.org/NewsArticle'>4</div>"
        "<div itemtype=''>5</div><div id=''>6</div></body></html>")
    ladders = (sel.ASPNET_CONTAINER, tuple(sel.CONTAINER[1:]), ("[id$=tdArticle]", "div.adetail"))
    for root in [odd, *(page.root for page in fixture_pages)]:
        for ladder in ladders:
            assert select_each(root, ladder) == [select(root, query) for query in ladder], ladder
    assert [e.text for e in select_each(odd, sel.ASPNET_CONTAINER)[0]] == ["1"]
