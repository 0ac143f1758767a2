"""Listing pages read by meaning: article links, their dates, the next page — in several markups."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archiver.dates import parse_date
from archiver.listing import listing_entries, next_page_url
from archiver.site import article_id_of, normalise_site, parse_id_ranges, parse_sections

REAL_HOME = Path(__file__).resolve().parent / "fixtures/not-article/real-homepage-2020-11/body.html"
BASE = "https://www.defense.gov/News/Releases/"

SIMPLE_LIST = b"""<html><body>
<header><nav><a href="/News/Article/Article/999/nav-link/">Top story</a></nav></header>
<main><ul class="news">
  <li><a href="/News/Releases/Release/Article/3981590/dod-announces/">DOD Announces</a>
      <span class="date">Dec. 2, 2024</span></li>
  <li><a href="https://www.defense.gov/News/Contracts/Contract/Article/4319114/">Contracts</a>
      <span class="date">Sept. 30, 2025</span></li>
  <li><a href="/News/Releases/Release/Article/3981590/dod-announces/">(same link again)</a></li>
</ul>
<a rel="next" href="?Page=3">older</a></main>
<footer><a href="/News/Article/Article/998/">footer link</a></footer></body></html>"""

ARTICLE_CARDS = b"""<html><body><div id="content">
<article><time datetime="2016-12-15T10:00:00">Dec 15</time>
 <h2><a href="/News/Article/Article/1030001/isil-failing/">ISIL Failing</a></h2></article>
<article><time datetime="2016-12-14">Dec 14</time>
 <h2><a href="/News/NewsArticle.aspx?ID=1030000">Legacy link</a></h2></article>
<div class="paging"><a href="/News/Archive/?Page=2">Next</a></div>
</div></body></html>"""


def test_the_real_home_page_of_2020() -> None:
    entries = listing_entries(REAL_HOME.read_bytes(), "https://www.defense.gov/",
                              hosts=["defense.gov", "war.gov"])
    urls = {e.url for e in entries}
    # its own news in the 2020 URL schemes, not other DoD sites' articles nor biographies
    site = "https://www.defense.gov"
    release = f"{site}/Newsroom/Releases/Release/Article/2411098/general-officer-assignments/"
    story = "2412205/nation-honors-veterans-at-arlington-national-cemetery/"
    assert f"{site}/Explore/News/Article/Article/{story}" in urls
    assert release in urls
    assert f"{site}/Explore/Features/Story/Article/2411785/voices-of-world-war-ii/" in urls
    assert all(urlsplit(u).hostname == "www.defense.gov" for u in urls)
    assert not [u for u in urls if "Biograph" in u]
    assert len(urls) == 8
    dated = {e.url: e.published for e in entries}
    assert dated[release] == date(2020, 11, 10)


def test_a_list_built_differently() -> None:
    entries = listing_entries(SIMPLE_LIST, BASE)
    assert [(e.url, e.published) for e in entries] == [
        ("https://www.defense.gov/News/Releases/Release/Article/3981590/dod-announces/", date(2024, 12, 2)),
        ("https://www.defense.gov/News/Contracts/Contract/Article/4319114/", date(2025, 9, 30)),
    ]
    assert next_page_url(SIMPLE_LIST, BASE) == "https://www.defense.gov/News/Releases/?Page=3"


def test_article_cards_with_time_elements_and_legacy_links() -> None:
    entries = listing_entries(ARTICLE_CARDS, "https://www.defense.gov/News/Archive/")
    assert [e.published for e in entries] == [date(2016, 12, 15), date(2016, 12, 14)]
    assert entries[1].url == "https://www.defense.gov/News/NewsArticle.aspx?ID=1030000"
    assert next_page_url(ARTICLE_CARDS, BASE) == "https://www.defense.gov/News/Archive/?Page=2"


def test_no_next_page() -> None:
    assert next_page_url(b"<html><body><a href='javascript:void(0)' class='next'>Next</a></body></html>",
                         BASE) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("Dec. 15, 2016", date(2016, 12, 15)),
    ("Sept. 30, 2025", date(2025, 9, 30)),
    ("March 5, 2017", date(2017, 3, 5)),
    ("Contracts For Sept. 30, 2025", date(2025, 9, 30)),
    ("2020-11-10T18:18:00", date(2020, 11, 10)),
    ("Thu, 15 Dec 2016 09:00:00 GMT", date(2016, 12, 15)),
    ("Feb. 30, 2020", None),
    ("yesterday", None),
    ("", None),
])
def test_dates(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


def test_article_ids_from_urls() -> None:
    assert article_id_of("https://www.defense.gov/News/Releases/Release/Article/3981590/x/") == "3981590"
    assert article_id_of("https://www.defense.gov/News/NewsArticle.aspx?ID=128000") == "newsarticle:128000"
    assert article_id_of("/Transcripts/Transcript.aspx?TranscriptID=5000") == "transcript:5000"
    assert article_id_of("https://www.defense.gov/News/Releases/") is None


def test_sections_and_ids_arguments() -> None:
    assert parse_sections(None)[0] == "news-stories"
    assert parse_sections("Releases, contracts") == ["releases", "contracts"]
    with pytest.raises(ValueError, match="unknown section"):
        parse_sections("weather")
    assert parse_id_ranges("5-7,9") == [5, 6, 7, 9]
    for bad in ("7-5", "x", ""):
        with pytest.raises(ValueError, match="id"):
            parse_id_ranges(bad)
    with pytest.raises(ValueError, match="more than"):
        parse_id_ranges("1-2000000")


def test_site_urls() -> None:
    assert normalise_site("https://www.defense.gov/") == "https://www.defense.gov"
    for bad in ("ftp://x.org", "www.defense.gov", "https://user:pw@www.defense.gov"):
        with pytest.raises(ValueError, match="site URL"):
            normalise_site(bad)
