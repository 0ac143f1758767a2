"""``archiver demo --history``: build a local web archive of older-era pages, serve it with pywb,
harvest it. No network: the pages are the replica's (its 2016-2019 DNN-era markup and its current
markup), captured in the archive under their www.defense.gov URLs at their publication time, some
of them twice (a later capture of an edited version)."""

from __future__ import annotations

import argparse
import io
import tempfile
from datetime import timedelta
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.harvest.pywb import build_collection, serving

SITE = "https://www.defense.gov"
#: the demo's archive is this machine: delays lifted for it (and only for it)
DEMO_SETTINGS: dict[str, object] = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "ARCHIVER_HARVEST_CONCURRENCY": 8,
}


def write_history_warc(path: Path, articles: int, seed: int) -> int:
    """A WARC of replica articles as an archive holds them; returns the number of captures."""
    from archiver.replica.corpus import Corpus, CorpusOptions
    from archiver.replica.render import ArticleRenderer

    corpus = Corpus(CorpusOptions(seed=seed, articles=articles, mutate_percent=20))
    captures = 0
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True, warc_version="1.1")
        for k in range(articles):
            article = corpus.article(k)
            url = SITE + article.head.path
            html = ArticleRenderer(article, SITE).html().encode("utf-8")
            when = article.head.published + timedelta(hours=6)
            captures += 1
            _write(writer, url, html, when.strftime("%Y-%m-%dT%H:%M:%SZ"))
            if k % 5 == 0:  # captured again a year later
                captures += 1
                _write(writer, url, html, (when + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return captures


def _write(writer: WARCWriter, url: str, body: bytes, when: str) -> None:
    http = StatusAndHeaders(
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
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
