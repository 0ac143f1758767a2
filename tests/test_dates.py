"""The one date parser (archiver.extract.dates) on every date format the real saved pages print and
the replica's eras print, and ``--since``/``--until`` on a day-first date in a real crawl."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import lxml.html
import pytest

from archiver import dates as old_home
from archiver.extract.dates import in_range, iso_date, parse_date
from archiver.replica import erapages, render
from archiver.replica.corpus import Corpus, CorpusOptions, ap_date
from archiver.replica.process import replica

REAL = Path("/work/shared/fixtures/real")
TESTS = Path(__file__).parent / "fixtures"
REAL_PAGES = sorted([*REAL.glob("*.html"), *TESTS.glob("*/real-*/body.html")])

#: (text as printed, the day, the page that prints it)
PRINTED = [
    ("Dec. 06, 2006", date(2006, 12, 6), "release/real-defenselink-10242"),  # DefenseLink header
    ("December 01, 2006", date(2006, 12, 1), "release/real-defenselink-10242"),  # DefenseLink release
    ("12/1/2006", date(2006, 12, 1), "release/real-defenselink-10242"),  # DefenseLink meta date
    ("13-Jan-2006", date(2006, 1, 13), "not-article/real-defenselink-bio-cambone"),  # PUB_DATE
    ("July 19th, 2001", date(2001, 7, 19), "not-article/real-defenselink-bio-cambone"),
    ("Mar. 09, 2007", date(2007, 3, 9), "not-article/real-defenselink-bio-cambone"),
    ("Aug. 25, 2018", date(2018, 8, 25), "contract/real-dnn-605989"),  # DNN
    ("August 28, 2014", date(2014, 8, 28), "contract/real-dnn-605989"),
    ("2015-04-10", date(2015, 4, 10), "contract/real-dnn-605989"),
    ("Nov. 10, 2020", date(2020, 11, 10), "release/real-dgov2-2411893"),  # DGOV2
    ('data-dateap="Nov. 10, 2020"', date(2020, 11, 10), "not-article/real-homepage-2020-11"),
    ('data-dateago="2020-11-10T11:52:26"', date(2020, 11, 10), "not-article/real-homepage-2020-11"),
    ("Nov. 8 2020", date(2020, 11, 8), "not-article/real-homepage-2020-11"),
    ("2020-11-12T05:42:38.8305575-05:00", date(2020, 11, 12), "not-article/real-homepage-2020-11"),
    ("Contracts for September 30, 2025", date(2025, 9, 30), "contract/real-4319114"),  # war.gov
    ("Sept. 30, 2025", date(2025, 9, 30), "contract/real-4319114"),
    ("Dec. 2, 2024", date(2024, 12, 2), "release/real-3981590"),
    ("Apr 11, 2026", date(2026, 4, 11), "release/real-wayback-2853121"),  # Wayback banner
]
#: formats no saved page prints but a page of the site could (issue 19's list)
UNSEEN = [
    ("15 December 2016", date(2016, 12, 15)),
    ("Dec 15, 2016", date(2016, 12, 15)),
    ("12/15/2016", date(2016, 12, 15)),
    ("Thu, 15 Dec 2016 09:00:00 GMT", date(2016, 12, 15)),  # RSS pubDate (RFC 822)
    ("2016-12-15T09:00:00+00:00", date(2016, 12, 15)),  # sitemap lastmod (W3C datetime)
    ("2016-12-15T23:30-0500", date(2016, 12, 15)),
]
#: a loose net for anything date-like a page prints: each catch must parse
_M = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
LOOSE = re.compile(rf"\b{_M}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\b\d{{1,2}}[\s-]+{_M},?[\s-]+\d{{4}}"
                   r"|\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d{4}-\d{2}-\d{2}\b", re.I)


@pytest.mark.parametrize(("text", "day", "case"), PRINTED)
def test_every_format_the_real_pages_print(text: str, day: date, case: str) -> None:
    assert text in (TESTS / case / "body.html").read_text("utf-8", errors="replace")
    assert parse_date(text) == day
    assert (iso_date(text) or "")[:10] == day.isoformat()


@pytest.mark.parametrize(("text", "day"), UNSEEN)
def test_every_other_format_of_the_site(text: str, day: date) -> None:
    assert parse_date(text) == day
    assert (iso_date(text) or "")[:10] == day.isoformat()


def test_every_date_like_string_of_the_real_pages_parses() -> None:
    assert REAL_PAGES
    found = {m.group(0) for page in REAL_PAGES
             for m in LOOSE.finditer(page.read_text("utf-8", errors="replace"))}
    assert len(found) > 50
    assert [text for text in sorted(found) if parse_date(text) is None] == []


def _replica_printed(when: datetime) -> list[str]:
    """Every way the replica prints a publication date: AP style, the DefenseLink skeleton's meta
    date and header, the listing's ``time`` element, the RSS pubDate and the sitemap lastmod."""
    corpus = Corpus(CorpusOptions(seed=3, articles=3))
    head = dataclasses.replace(corpus.head(corpus.newest_first()[0]), published=when)
    item = lxml.html.fromstring(render.listing_item(head, "http://x", 0)).find(".//time")
    page = erapages.aspnet_page("t", "/r.aspx", when.date(), "")
    feed = render.rss(None, [head], "http://x")
    sitemap = render.urlset([("http://x/a", when)])
    return [ap_date(when.date()), item.get("data-dateago"), item.get("data-dateap"), item.text_content(),
            re.search(r'content="(\d+/\d+/\d{4})"', page).group(1),  # type: ignore[union-attr]
            re.search(r"<pubDate>(.*?)</pubDate>", feed).group(1),  # type: ignore[union-attr]
            re.search(r"<lastmod>(.*?)</lastmod>", sitemap).group(1),  # type: ignore[union-attr]
            f"{when:%B %d, %Y}", f"{when:%b}. {when:%d, %Y}"]  # the era pages' strftime formats


@pytest.mark.parametrize("when", [datetime(2006, 12, 1, 9, tzinfo=UTC),
                                  datetime(2016, 12, 15, 23, tzinfo=UTC),
                                  datetime(2025, 9, 30, 17, tzinfo=UTC)])
def test_every_format_the_replica_prints(when: datetime) -> None:
    printed = _replica_printed(when)
    assert all(printed)
    assert [(text, parse_date(text)) for text in printed] == [(text, when.date()) for text in printed]


def test_the_old_module_is_the_same_parser() -> None:
    assert old_home.parse_date is parse_date
    assert old_home.in_range is in_range


@pytest.mark.parametrize("text", ["", "Feb. 30, 2020", "Marines 12, 2020", "yesterday", "2016-13-45",
                                  "13-Foo-2006"])
def test_no_date(text: str) -> None:
    assert parse_date(text) is None


# -- --since / --until on a day-first date: a real crawl --------------------------------------------

ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{title} &gt; U.S. Department of War</title></head><body>
<div class="adetail abanner aframe content-type-1"><header class="content-wrap">
<div class="cont-type">News Story</div><h1 class="maintitle">{title}</h1>
<div class="date-line"><span class="date">{printed}</span></div></header>
<div class="body"><p>The Secretary said the exercise went well and the allies agreed on the next steps.</p>
<p>The allies met again on the following day to agree on the schedule for the coming year.</p></div></div>
</body></html>"""
#: article id -> the date the page prints; the crawl asks for 2016-12-16 .. 2016-12-20
DATED = {"9100001": "15 December 2016", "9100002": "17 December 2016", "9100003": "21 December 2016",
         "9100004": "12/15/2016", "9100005": "12/17/2016"}


def _cases(folder: Path) -> list[str]:
    paths = []
    for article_id, printed in DATED.items():
        case = folder / f"dated-{article_id}"
        case.mkdir(parents=True)
        (case / "body.html").write_text(ARTICLE.format(title=f"Dated {article_id}", printed=printed), "utf-8")
        path = f"/News/Dated/Article/{article_id}/dated/"
        (case / "info.json").write_text(json.dumps({"group": "urls", "serve": {
            "path": path, "headers": [["Content-Type", "text/html; charset=utf-8"]], "body": "body.html"}}))
        paths.append(path)
    return paths


@pytest.mark.parametrize("workers", ["0", "1"])
def test_since_and_until_drop_day_first_and_us_dates(tmp_path: Path, workers: str) -> None:
    """"15 December 2016" used to pass every ``--since``/``--until`` (the spider's parser did not
    read it); with the extraction workers (1) and on the reactor thread (0)."""
    paths = _cases(tmp_path / "cases")
    with replica("--articles", "5", "--crawl-delay", "0", "--hostile", str(tmp_path / "cases")) as running:
        urls = tmp_path / "urls.txt"
        urls.write_text("".join(f"{running.base}{path}\n" for path in paths), "utf-8")
        out = tmp_path / "out"
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "ids", "-a", f"site={running.base}",
             "-a", f"urls_file={urls}", "-a", "since=2016-12-16", "-a", "until=2016-12-20",
             "-s", f"ARCHIVER_OUT_DIR={out}", "-s", f"ARCHIVER_EXTRACT_WORKERS={workers}",
             "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"],
            capture_output=True, text=True, timeout=300,
            env={**os.environ, "SCRAPY_SETTINGS_MODULE": "archiver.settings"})
    assert result.returncode in {0, 1}, result.stderr[-3000:]
    lines = (out / "articles.jsonl").read_text("utf-8").splitlines()
    kept = [json.loads(line)["article_id"] for line in lines]
    assert sorted(kept) == ["9100002", "9100005"], result.stderr[-3000:]
