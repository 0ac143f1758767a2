"""``archiver demo --history``: build a local web archive of older-era pages, serve it with pywb,
harvest it. No network: the pages are the replica's in the markup of their time (``--era mixed``:
DefenseLink / ASP.NET ``.aspx`` pages, the DNN skin, DGOV2, war.gov) plus a few 1990s static
DefenseLink pages (``--era defenselink-static``), each captured in the archive under the host of its
era (www.defenselink.mil before 2009, www.defense.gov, www.war.gov from September 2025) at its
publication time, some of them twice (a later capture of the same page)."""

from __future__ import annotations

import argparse
import io
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.harvest.pywb import build_collection, serving
from archiver.replica.eras import DEFENSE_GOV_FROM, MIXED, STATIC

if TYPE_CHECKING:
    from archiver.replica.corpus import Article

#: the demo's archive is this machine: delays lifted for it (and only for it)
DEMO_SETTINGS: dict[str, object] = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "ARCHIVER_HARVEST_CONCURRENCY": 8,
}
#: one 1990s static page for this many articles of the other eras (at least two)
STATIC_SHARE = 20


def era_site(markup: str, published: date) -> str:
    """The site an article of ``markup`` published on ``published`` was on (its archived URL's)."""
    if markup == "wargov":
        return "https://www.war.gov"
    if published < DEFENSE_GOV_FROM:
        return "http://www.defenselink.mil"
    return "http://www.defense.gov" if markup == "aspnet" else "https://www.defense.gov"


def history_pages(articles: int, seed: int) -> Iterator[tuple[str, Article, bytes, bytes]]:
    """(site, replica article, body, Content-Type) of each page of the demo's archive: ``articles``
    of every era after the static one (``--era mixed``), then a few 1990s static pages; the page's
    URL is the site's plus the article's path."""
    from archiver.replica.corpus import Corpus, CorpusOptions
    from archiver.replica.erapages import article_html

    corpora = [Corpus(CorpusOptions(seed=seed, articles=articles, era=MIXED)),
               Corpus(CorpusOptions(seed=seed + 1, articles=max(2, articles // STATIC_SHARE), era=STATIC))]
    seen: set[str] = set()
    for corpus in corpora:
        for k in range(corpus.size):
            article = corpus.article(k)
            site = era_site(article.head.markup, article.head.published.date())
            url = site + article.head.path
            if url in seen:
                continue
            seen.add(url)
            body, content_type = article_html(article, site)
            yield site, article, body, content_type


def write_history_warc(path: Path, articles: int, seed: int) -> int:
    """A WARC of replica articles as an archive holds them; returns the number of captures."""
    captures = 0
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True, warc_version="1.1")
        for k, (site, article, body, content_type) in enumerate(history_pages(articles, seed)):
            url = site + article.head.path
            when = article.head.published + timedelta(hours=6)
            captures += 1
            _write(writer, url, body, content_type, when.strftime("%Y-%m-%dT%H:%M:%SZ"))
            if k % 5 == 0:  # captured again a year later
                captures += 1
                _write(writer, url, body, content_type,
                       (when + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return captures


def _write(writer: WARCWriter, url: str, body: bytes, content_type: bytes, when: str) -> None:
    http = StatusAndHeaders(
        "200 OK",
        [("Content-Type", content_type.decode("latin-1")), ("Content-Length", str(len(body)))],
        protocol="HTTP/1.1",
    )
    writer.write_record(
        writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": when},
        )
    )


def run_history_demo(args: argparse.Namespace) -> int:
    from archiver.runtime.crawlcommand import crawl_and_report, option_settings

    with tempfile.TemporaryDirectory(prefix="archiver-history-") as tmp:
        root = Path(tmp)
        warc = root / "history.warc.gz"
        captures = write_history_warc(warc, args.articles, args.seed)
        build_collection(root / "pywb", "history", [warc])
        with serving(root / "pywb") as base:
            collection = f"{base}/history"
            print(
                f"pywb serving a local archive of {captures} captures of {args.articles} articles at "
                f"{collection}",
                flush=True,
            )
            settings = {**DEMO_SETTINGS, "ARCHIVER_HARVEST_CAPTURES": "latest", **option_settings(args)}
            return crawl_and_report(args, "harvest", {"archive": collection}, settings)
