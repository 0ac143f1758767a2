"""Listing pages read by meaning: article links, their dates, the next page — in several markups."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archiver.extract.dates import parse_date
from archiver.extract.listing import listing_entries, next_page_url, read_listing
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


NESTED = b"""<html><body><main>
<header><a href="/News/Article/Article/1/in-main-header/">kept: a header inside main</a></header>
<div class="card"><div><h3><a href="/News/Article/Article/2/two-levels/">x</a></h3></div>
  <p><span class="meta date">March 5, 2017</span></p></div>
<ul>""" + b"".join(b'<li><a href="/News/Article/Article/%d/u/">u</a></li>' % n for n in range(10, 17)) + \
    b"""</ul><time datetime="2001-01-01">outside the list of seven</time>
</main><header><a href="/News/Article/Article/3/page-header/">chrome</a></header></body></html>"""


def test_a_links_date_is_looked_for_in_its_item_not_in_the_list_around_it() -> None:
    entries = {e.url.split("/")[-3]: e.published for e in listing_entries(NESTED, BASE)}
    assert "1" in entries  # a header in main is not chrome; "3", in the page header, is
    del entries["1"]
    assert entries.pop("2") == date(2017, 3, 5)  # four levels up, in the same card
    assert entries == dict.fromkeys(map(str, range(10, 17)))  # the list of 7 links is not an item


class TookTooLong(Exception):
    pass


@contextmanager
def cpu_deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`TookTooLong` once this process has used ``seconds`` of CPU (SIGPROF)."""
    def expire(_signum: int, _frame: object) -> None:
        raise TookTooLong(f"still running after {seconds:.1f} s of CPU")

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def undated_listing(links: int) -> bytes:
    """One list of ``links`` article links without dates: each link's date search reaches the list."""
    items = "".join(f'<li><a href="/News/Article/Article/{n}/story-{n}/">Story {n}</a></li>'
                    for n in range(1_000_000, 1_000_000 + links))
    return f"<html><body><main><ul>{items}</ul></main></body></html>".encode()


def cpu_seconds(body: bytes, expected: int) -> float:
    started = time.process_time()
    page = read_listing(body, BASE)
    spent = time.process_time() - started
    assert len(page.entries) == expected
    assert all(entry.published is None for entry in page.entries)
    return spent


def test_a_listing_of_20000_links_is_read_in_linear_time() -> None:
    """Ten times the links in about ten times the time (CPU time: other processes do not count).
    Each link's date search used to cover the whole list: 2,000 links 3.7 s, 20,000 about 30 min."""
    small, large = undated_listing(2_000), undated_listing(20_000)
    baseline = min(cpu_seconds(small, 2_000) for _ in range(3))
    bound = max(10 * baseline * 3, 2.0)  # linear, with slack for the allocator and caches
    with cpu_deadline(bound):
        spent = cpu_seconds(large, 20_000)
    assert spent < bound, (baseline, spent)


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
