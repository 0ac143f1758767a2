"""The archive replays as the page looked, in a real browser: ReplayWeb.page and pywb in headless Chromium.

One crawl of the replica with ``--images`` (and requisites, the default), then a second, incremental
crawl into the same folder (the requisites are revisits then). An article with photos is opened
from ``archive.wacz`` in ReplayWeb.page 2.5.3 (the version pinned in tools/replaywebpage/) and from
the WARC files in pywb: every stylesheet of the page loaded, the article text is in the site's
font (``Lato, Arial`` from the real stylesheet, not the browser's Times), no requisite of the
site is missing, every photo decoded (``naturalWidth > 0``). Screenshots go to the test's tmp folder
and to test-artifacts/. See docs/replay.md.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from archiver.harvest.pywb import build_collection, serving
from archiver.replica.process import RunningReplica, replica
from archiver.warc.index import validate_wacz
from tests import harness
from tests.browser_replay import Replayed, chromium, replay, replaywebpage, replaywebpage_site, static_site
from tests.warc_helpers import pywb_tool, read_records

FAST = [*harness.FAST, "-s", "ARCHIVER_SITE_HOSTS=[]"]
SITE_FONT = "Lato, Arial"  # .aframe .content in the real site-style-2020-11.css


REPLICA = ("--articles", "40", "--seed", "3", "--crawl-delay", "0")


@dataclass
class Archive:
    base: str  # the replica's URL (the same port for both crawls)
    out: Path
    article: dict[str, Any]  # the cleaned record of the article replayed
    unchanged: dict[str, Any] | None = None  # second crawl: an article it found unchanged (a 304)

    @property
    def host(self) -> str:
        return urlsplit(self.base).netloc


def _page(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        body: bytes = answer.read()
    return body


def _crawl(site: RunningReplica, out: Path) -> list[dict[str, Any]]:
    """Crawl two sections with --images into ``out``; the run's cleaned records."""
    process = harness.archiver("crawl", "--site", site.base, "--out", str(out), "--images",
                               "--sections", "news-stories,feature-stories", *FAST)
    assert process.returncode == 0, process.stdout + process.stderr[-3000:]
    return [json.loads(line) for line in (out / "articles.jsonl").read_text("utf-8").splitlines()]


def _most_photos(records: list[dict[str, Any]], least: int = 3) -> dict[str, Any]:
    """The record with the most photos (inline ones and a gallery) in the 2020+ markup, whose text
    the real stylesheet styles (``.aframe .content``; the 2016-2019 markup's text is styled by
    skin.css, a stand-in in the replica)."""
    modern = [r for r in records if b" aframe " in _page(r["url"])]
    article = max(modern, key=lambda r: len(r["images"]))
    assert len(article["images"]) >= least
    return article


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    chromium()  # skip (or fail under CI) before crawling when there is no browser
    replaywebpage()
    out = tmp_path_factory.mktemp("replay") / "out"
    with replica(*REPLICA) as site:
        return Archive(site.base, out, _most_photos(_crawl(site, out)))


@pytest.fixture(scope="module")
def first_replay(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Replayed:
    return _replay_in_replaywebpage(archive, tmp_path_factory.mktemp("rwp1"), "replaywebpage-first-crawl.png")


@pytest.fixture(scope="module")
def second_crawl(archive: Archive, first_replay: Replayed) -> Archive:
    """An incremental crawl of the same site (same port) where half the articles changed: the
    changed ones are archived in full, their requisites (asked conditionally) as 304 revisits of the
    first crawl's."""
    port = urlsplit(archive.base).port
    with replica(*REPLICA, "--port", str(port), "--mutate", "50") as site:
        dataset = _crawl(site, archive.out)
        changed = [r for r in dataset if r.get("change") == "updated"]
        unchanged = [r for r in dataset if r.get("change") != "updated"]
        return Archive(site.base, archive.out, _most_photos(changed), _most_photos(unchanged, least=1))


def _replay_in_replaywebpage(archive: Archive, work: Path, shot: str) -> Replayed:
    index = replaywebpage_site(work / "site", archive.out / "archive.wacz", archive.article["url"])
    with static_site(index.parent) as base:
        return replay(f"{base}/index.html", archive.article["url"], archive.host, work / shot)


def _assert_looks_like_the_live_page(replayed: Replayed, archive: Archive) -> None:
    sheets = replayed.stylesheets
    assert len(sheets) == 19  # the real page's stylesheets
    assert [s["href"] for s in sheets if not s["loaded"] or not s["rules"]] == []
    site_sheet = next(s for s in sheets if "/ArticleCS/styles/DefenseGOV2/style.css" in s["href"])
    assert site_sheet["rules"] > 500  # the real stylesheet, not a stand-in
    assert replayed.font_family == SITE_FONT  # not the browser default (Times)
    assert replayed.failed == []  # no requisite of the site missing
    assert replayed.shown_sr_only == []  # Bootstrap's .sr-only applied: no caption drawn word by word
    used = [f for f in replayed.fonts if f["status"] != "unloaded"]  # the faces the page draws with
    assert used, replayed.fonts  # the Font Awesome icons of the page
    assert [f for f in used if f["status"] != "loaded"] == []  # each one's font file replayed, a font
    photos = {image["src"] for image in archive.article["images"]}
    shown = [i for i in replayed.images if any(i["src"].endswith(p) for p in photos)]
    assert len(shown) >= len(photos)  # each full-size photo (in its popup), with --images
    assert [i["src"] for i in replayed.images if not i["naturalWidth"]] == []  # every image decoded


def test_replaywebpage_replays_the_article_styled_with_every_photo(first_replay: Replayed,
                                                                   archive: Archive) -> None:
    _assert_looks_like_the_live_page(first_replay, archive)


def test_replaywebpage_replays_a_changed_article_of_a_second_crawl_with_revisited_requisites(
        second_crawl: Archive, tmp_path: Path) -> None:
    report = json.loads((second_crawl.out / "report.json").read_text("utf-8"))
    assert report["requisites"]["archived"] == 0  # every requisite a revisit of the first crawl's
    assert report["requisites"]["revisits"] > 50
    # asked conditionally (the default): each answered 304, a server-not-modified revisit
    assert report["requisites"]["not_modified"] == report["requisites"]["revisits"]
    replayed = _replay_in_replaywebpage(second_crawl, tmp_path, "replaywebpage-second-crawl.png")
    _assert_looks_like_the_live_page(replayed, second_crawl)


def _latest_capture(out: Path, url: str) -> dict[str, Any]:
    """The WARC headers of the latest response or revisit record of ``url`` in ``out/warc``."""
    records = [dict(r["warc_headers"]) for warc in sorted((out / "warc").glob("*.warc.gz"))
               for r in read_records(warc) if r["type"] in ("response", "revisit")]
    return max((r for r in records if r["WARC-Target-URI"] == url), key=lambda r: r["WARC-Date"])


def test_replaywebpage_replays_an_unchanged_article_of_a_second_crawl_from_its_revisit(
        second_crawl: Archive, tmp_path: Path) -> None:
    # the first crawl's article, unchanged in the second: asked conditionally, answered 304, its
    # latest capture a server-not-modified revisit of the first crawl's response, in another WARC
    assert second_crawl.unchanged is not None
    unchanged = Archive(second_crawl.base, second_crawl.out, second_crawl.unchanged)
    latest = _latest_capture(unchanged.out, unchanged.article["url"])
    assert latest["WARC-Profile"].endswith("/revisit/server-not-modified")
    assert latest["WARC-Date"] > unchanged.article["fetched_at"]  # not the capture the dataset names
    replayed = _replay_in_replaywebpage(unchanged, tmp_path, "replaywebpage-second-crawl-unchanged.png")
    _assert_looks_like_the_live_page(replayed, unchanged)


def test_the_wacz_is_valid_and_lists_the_articles_with_titles(archive: Archive,
                                                              second_crawl: Archive) -> None:
    for wacz, article in ((next((archive.out / "runs").iterdir()) / "archive.wacz", archive.article),
                          (second_crawl.out / "archive.wacz", second_crawl.article)):
        assert validate_wacz(wacz)
        with zipfile.ZipFile(wacz) as package:
            lines = package.read("pages/pages.jsonl").decode("utf-8").splitlines()
        pages = [json.loads(line) for line in lines[1:]]
        assert article["url"] in {p["url"] for p in pages}
        assert all(p["title"] for p in pages)


def test_pywb_replays_the_same_page(archive: Archive, second_crawl: Archive, tmp_path: Path) -> None:
    pywb_tool("wayback")  # skip (fail under CI) without pywb's tool venv
    root = tmp_path / "pywb"
    # the crawl's own CDXJ (response and revisit records; `wb-manager add` would index the
    # conversion records too, and pywb then plays the cleaned JSON as the page: docs/replay.md)
    build_collection(root, "archive", [])
    for warc in (second_crawl.out / "warc").glob("*.warc.gz"):
        shutil.copy(warc, root / "collections" / "archive" / "archive" / warc.name)
    for index in (second_crawl.out / "indexes").glob("*.cdxj"):
        shutil.copy(index, root / "collections" / "archive" / "indexes" / index.name)
    with serving(root) as base:
        # an article unchanged in the second crawl: its latest capture is a 304 revisit
        assert second_crawl.unchanged is not None
        article = second_crawl.unchanged
        url = f"{base}/archive/mp_/{article['url']}"
        replayed = replay(url, article["url"], archive.host, tmp_path / "pywb.png")
    _assert_looks_like_the_live_page(replayed, Archive(archive.base, archive.out, article))
