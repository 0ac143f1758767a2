"""Page requisites: what the scanner finds, what the policy refuses, and real crawls of the replica.

The crawls run against the replica serving two extra article pages (``--hostile
tests/fixtures/requisites``: one with a stylesheet and an image the site does not have, one sharing
a stylesheet with every page); the replica logs every URI it is asked (``/hostile/requests.json``),
so "asked once per crawl" is counted on the server's side.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.replica.process import RunningReplica, replica
from archiver.requisites.policy import DEFAULT_IGNORE, RequisitePolicy
from archiver.requisites.scan import _TOKEN, Requisite, page_requisites, stylesheet_requisites
from tests import harness
from tests.warc_helpers import assert_warcs_pass_check

FIXTURES = Path(__file__).parent / "fixtures" / "requisites"
#: the real release-3981590-rendered.html, which the replica's pages are made of
REAL_PAGE = Path(__file__).parent.parent / "archiver" / "replica" / "data" / "skeleton-article.html"
FAST = [*harness.FAST, "-s", "ARCHIVER_SITE_HOSTS=[]"]
FA_FONT = "/Desktopmodules/SharedLibrary/ValidatedPlugins/font-awesome6/webfonts/fa-solid-900.woff2"


# -- the scanner -------------------------------------------------------------------------------------

PAGE = b"""<!DOCTYPE html><html><head>
<base href="http://site.test/News/">
<link rel="stylesheet" href="/css/a.css?v=1&amp;x=2"><link rel="icon" href="/favicon.ico">
<link rel="preload" as="font" href="/f/x.woff2" crossorigin><link rel="canonical" href="/News/1/">
<link rel="alternate" type="application/rss+xml" href="/rss">
<script src="js/app.js"></script><script>var s = '<img src="/in-script.png">';</script>
<!-- <link rel="stylesheet" href="/commented.css"> -->
<style>@import url("b.css"); @font-face { font-family: X; src: url(/f/y.woff) format("woff"); }
.hero { background: url('img/hero.jpg') } .x { background: url(data:image/png;base64,AAAA) }</style>
</head><body background="/old/bg.gif">
<img src="/p/1.jpg" srcset="/p/1-2x.jpg 2x, /p/1-3x.jpg 3x" alt="">
<picture><source srcset="/p/2.webp"><img src="/p/2.jpg"></picture>
<video poster="/p/poster.jpg"><source src="/v/clip.mp4"></video>
<div style="background-image: url(&quot;/p/div.png&quot;)"></div>
<a href="/News/2/">next</a><iframe src="/embed/player"></iframe><img src="#"><img src="javascript:void(0)">
</body></html>"""


def test_page_requisites_are_what_a_browser_loads_in_page_order() -> None:
    found = page_requisites(PAGE, "http://site.test/News/Article/1/")
    assert found == [
        Requisite("http://site.test/css/a.css?v=1&x=2", "stylesheet"),
        Requisite("http://site.test/favicon.ico", "icon"),
        Requisite("http://site.test/f/x.woff2", "font"),
        Requisite("http://site.test/News/js/app.js", "script"),  # relative to <base href>
        Requisite("http://site.test/News/b.css", "stylesheet"),
        Requisite("http://site.test/f/y.woff", "font"),
        Requisite("http://site.test/News/img/hero.jpg", "image"),
        Requisite("http://site.test/old/bg.gif", "image"),
        Requisite("http://site.test/p/1.jpg", "image"),
        Requisite("http://site.test/p/1-2x.jpg", "image"),
        Requisite("http://site.test/p/1-3x.jpg", "image"),
        Requisite("http://site.test/p/2.webp", "image"),
        Requisite("http://site.test/p/2.jpg", "image"),
        Requisite("http://site.test/p/poster.jpg", "image"),
        Requisite("http://site.test/p/div.png", "image"),
    ]


#: the tokenizer as first written (lazy ``.*?`` up to a comment's or a block's end): the faster one
#: must find the same tokens
LAZY_TOKEN = re.compile(
    rb"<(?:!--.*?-->"
    rb"|(script|style)\b([^>]*)>(.*?)</\1\s*>"
    rb"|(link|img|source|video|input|body|table|td|th)\b([^>]*)>)",
    re.I | re.S,
)
TOKEN_EDGES = [b"<!---->", b"<!--->", b"<!-- a --->", b"<!-- - -- -->", b"<!-- unclosed <img src=a>",
               b"<script>a</script >", b"<SCRIPT>a</script\n>", b"<script>1 < 2 </scrip></script>",
               b"<script>never closed <img src=b>", b"<style>x</STYLE>", b"<style>a</script></style>",
               b"<scripts src=c><img src=d>", b"<!--<script>--><img src=e></script>"]


@pytest.mark.parametrize("text", TOKEN_EDGES)
def test_the_tokenizer_skips_comments_and_blocks_as_a_lazy_match_would(text: bytes) -> None:
    def tokens(pattern: re.Pattern[bytes]) -> list[tuple[int, int, tuple[bytes | None, ...]]]:
        return [(m.start(), m.end(), m.groups()) for m in pattern.finditer(b"<p>" + text + b"<img src=z>")]

    assert tokens(_TOKEN) == tokens(LAZY_TOKEN)


def test_stylesheet_requisites_resolve_against_the_stylesheet() -> None:
    css = """/* url(/commented.png) */ @import "print.css";
    @font-face { font-family: 'Lato';
                 src: url('../fonts/lato.woff2') format('woff2'), url(../fonts/lato.woff); }
    .a { background: url(ebebeb.jpg) } .b { background: url("/abs/x.svg#frag") }
    .c { background: url(data:x) }"""
    found = stylesheet_requisites(css, "https://www.defense.gov/skins/dgov2/css/skin.css?cdv=1")
    assert found == [
        Requisite("https://www.defense.gov/skins/dgov2/css/print.css", "stylesheet"),
        Requisite("https://www.defense.gov/skins/dgov2/fonts/lato.woff2", "font"),
        Requisite("https://www.defense.gov/skins/dgov2/fonts/lato.woff", "font"),
        Requisite("https://www.defense.gov/skins/dgov2/css/ebebeb.jpg", "image"),
        Requisite("https://www.defense.gov/abs/x.svg", "image"),
    ]


def test_the_real_page_has_its_19_stylesheets_scripts_and_favicon_found() -> None:
    found = page_requisites(REAL_PAGE.read_bytes(), "https://www.war.gov/News/Releases/Release/Article/3981590/")
    kinds = Counter(r.kind for r in found)
    assert kinds["stylesheet"] == 19
    assert "https://www.war.gov/desktopmodules/ArticleCS/styles/DefenseGOV2/style.css?cdv=1913" in {
        r.url for r in found}
    assert kinds["icon"] == 1
    assert kinds["script"] >= 30


def test_policy_fetches_the_site_and_its_media_host_never_trackers() -> None:
    policy = RequisitePolicy(["www.war.gov", "defense.gov", "war.gov"], DEFAULT_IGNORE)
    assert policy.refusal("https://media.defense.gov/2021/Sep/30/2002865254/670/394/0/x.JPG") is None
    assert policy.refusal("https://www.war.gov/Portals/1/favicon.ico") is None
    assert policy.refusal("https://www.googletagmanager.com/gtag/js?id=G-1") == "ignored"
    assert policy.refusal("https://static.addtoany.com/menu/page.js") == "ignored"
    assert policy.refusal("https://www.war.gov/Desktopmodules/SharedLibrary/Plugins/GoogleAnalytics/"
                          "Universal-Federated-Analytics-8.7.js") == "ignored"
    assert policy.refusal("https://fonts.googleapis.com/css?family=Open+Sans") == "offsite"
    assert policy.refusal("https://notdefense.gov/x.css") == "offsite"


# -- real crawls of the replica ------------------------------------------------------------------------


@dataclass
class Run:
    out: Path
    process: subprocess.CompletedProcess[str]
    asked: Counter[str]  # URIs the replica was asked during this run
    warcs: list[Path]  # the WARC files this run wrote

    @property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.out / "report.json").read_text("utf-8"))
        return data

    def records(self) -> list[dict[str, Any]]:
        found = []
        for path in self.warcs:
            with path.open("rb") as fh:
                for record in ArchiveIterator(fh):
                    http = record.http_headers
                    found.append({"type": record.rec_type,
                                  "url": record.rec_headers.get_header("WARC-Target-URI"),
                                  "status": http.get_statuscode() if http else None,
                                  "profile": record.rec_headers.get_header("WARC-Profile")})
        return found

    def requisite_failures(self) -> list[dict[str, Any]]:
        path = self.out / "requisite-failures.jsonl"
        return [json.loads(line) for line in path.read_text("utf-8").splitlines()] if path.exists() else []


def _asked(site: RunningReplica) -> Counter[str]:
    with urllib.request.urlopen(site.base + "/hostile/requests.json", timeout=30) as answer:
        return Counter(json.loads(answer.read()))


def _run(site: RunningReplica, out: Path, *args: str) -> Run:
    before = _asked(site)
    warcs_before = set((out / "warc").glob("*.warc.gz")) if (out / "warc").exists() else set()
    process = subprocess.run(
        [sys.executable, "-m", "archiver", "crawl", "--site", site.base, "--out", str(out),
         "--sections", "archive", "--max-pages", "1", *FAST, *args],
        capture_output=True, text=True, timeout=600)
    assert (out / "report.json").exists(), process.stderr[-3000:]
    asked = _asked(site) - before
    asked.pop("/hostile/requests.json", None)
    return Run(out, process, asked, sorted(set((out / "warc").glob("*.warc.gz")) - warcs_before))


@pytest.fixture(scope="module")
def site() -> Iterator[RunningReplica]:
    args = ("--articles", "12", "--seed", "5", "--crawl-delay", "0", "--hostile", str(FIXTURES))
    with replica(*args) as running:
        yield running


@pytest.fixture(scope="module")
def first(site: RunningReplica, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(site, tmp_path_factory.mktemp("requisites") / "out")


@pytest.fixture(scope="module")
def second(site: RunningReplica, first: Run) -> Run:
    return _run(site, first.out)


def _requisite_urls(run: Run) -> set[str]:
    pages = {json.loads(line)["url"] for line in (run.out / "articles.jsonl").read_text("utf-8").splitlines()}
    return {r["url"] for r in run.records() if r["type"] in ("response", "revisit") and r["url"] not in pages
            and "/News/" not in r["url"] and not r["url"].endswith("/robots.txt")}


def test_every_requisite_is_asked_once_per_crawl(first: Run, site: RunningReplica) -> None:
    assert first.process.returncode == 0, first.process.stdout + first.process.stderr[-2000:]
    # every page (listing, 12 articles) links skin.css; the replica saw one request for it
    assert first.asked["/Portals/_default/skins/dgov2/skin.css?cdv=1913"] == 1
    assert first.asked["/desktopmodules/ArticleCS/styles/DefenseGOV2/style.css?cdv=1913"] == 1
    repeated = {uri: n for uri, n in first.asked.items() if n > 1}
    assert repeated == {}
    report = first.report["requisites"]
    assert report["requested"] == report["archived"] + report["revisits"] + report["failed"]
    assert report["by_kind"]["stylesheet"] >= 19
    assert report["by_kind"]["font"] >= 3
    # the summary has its line, in report.json's terms (archived: a new payload; revisits apart)
    assert (f"  requisites {report['requested']} asked: {report['archived']} archived, "
            f"{report['revisits']} as revisits ({report['not_modified']} not modified), "
            f"{report['failed']} failed") in first.process.stdout


def test_the_real_stylesheet_and_its_references_are_archived(first: Run, site: RunningReplica) -> None:
    urls = _requisite_urls(first)
    base = site.base
    assert f"{base}/desktopmodules/ArticleCS/styles/DefenseGOV2/style.css?cdv=1913" in urls
    # url() references of the real stylesheet, and the stand-in Font Awesome's @font-face fonts
    assert f"{base}/desktopmodules/articlecs/images/ebebeb.jpg" in urls
    assert f"{base}{FA_FONT}" in urls
    assert f"{base}/Portals/1/Images/body-background.png" in urls  # a style="" attribute
    assert any(u.startswith(f"{base}/Portals/1/favicon.ico") for u in urls)


def test_article_photos_displayed_sizes_are_archived_full_size_ones_stay_behind_images(
        first: Run, site: RunningReplica) -> None:
    urls = _requisite_urls(first)
    articles = [json.loads(line) for line in (first.out / "articles.jsonl").read_text("utf-8").splitlines()]
    full = {image["src"] for article in articles for image in article["images"]}
    assert full, "the replica's articles have photos"
    assert not full & urls  # without --images: the full-size photos are not fetched
    shown = {u for u in urls if "/670/394/0/" in u or "/825/780/0/" in u}
    assert shown, "the inline and gallery sizes the pages display"


def test_trackers_and_other_hosts_are_not_fetched(first: Run) -> None:
    assert not [uri for uri in first.asked if "GoogleAnalytics" in uri or "DVIDSAnalytics" in uri]
    assert not [r for r in first.records() if "googletagmanager" in (r["url"] or "")
                or "addtoany" in (r["url"] or "")]
    skipped = first.report["requisites"]["skipped"]
    assert skipped["ignored"] >= 3
    assert skipped["offsite"] == 1


def test_a_failed_requisite_is_reported_apart_never_as_the_articles_failure(
        first: Run, site: RunningReplica) -> None:
    failed = {f["url"]: f for f in first.requisite_failures()}
    logo = f"{site.base}/News/Hostile/no-such-logo.png"
    assert set(failed) == {f"{site.base}/News/Hostile/no-such-style.css", logo}
    assert {f["reason"] for f in failed.values()} == {"HTTP 404"}
    assert failed[logo]["page"].endswith("/9000901/missing-requisites/")
    assert (first.out / "failures.jsonl").read_text("utf-8") == ""
    assert first.report["counts"]["failures"] == 0
    assert first.report["requisites"]["failed"] == 2
    assert first.process.returncode == 0
    lines = (first.out / "articles.jsonl").read_text("utf-8").splitlines()
    titles = [json.loads(line)["title"] for line in lines]
    assert "Missing Requisites" in titles
    assert len(titles) == 12
    # markup in a comment or in a script is not a requisite
    assert not [uri for uri in first.asked if "commented-out" in uri or "written-by-script" in uri]


def test_the_archive_is_valid(first: Run) -> None:
    assert_warcs_pass_check(first.out / "warc")


def _again(first: Run, later: Run) -> list[dict[str, Any]]:
    """The records a later run wrote for the requisites the first run archived."""
    known = _requisite_urls(first) - {f["url"] for f in first.requisite_failures()}
    return [r for r in later.records() if r["url"] in known and r["type"] in ("response", "revisit")]


def _assert_skeleton_asked_again(first: Run, again: list[dict[str, Any]]) -> None:
    # the listing page (200 again) asks the skeleton's requisites again and its stylesheets their
    # fonts and images; an unchanged article (304) asks none: its photos are in the first run's WARC
    asked = {r["url"] for r in again}
    base = first.report["site"]
    assert f"{base}/desktopmodules/ArticleCS/styles/DefenseGOV2/style.css?cdv=1913" in asked
    assert f"{base}{FA_FONT}" in asked
    assert f"{base}/desktopmodules/articlecs/images/ebebeb.jpg" in asked
    assert len(asked) >= 60


def test_a_second_crawl_asks_requisites_conditionally_and_archives_304_revisits(first: Run,
                                                                               second: Run) -> None:
    # the default (ARCHIVER_REQUISITES_CONDITIONAL): asked with the validators of their last
    # capture; the replica answers 304 and each is a server-not-modified revisit, no new payload
    assert second.process.returncode == 0, second.process.stdout + second.process.stderr[-2000:]
    again = _again(first, second)
    # the fonts of a stylesheet that answered 304 come from the crawl state (a 304 has no body)
    _assert_skeleton_asked_again(first, again)
    assert [r for r in again if r["type"] == "response"] == []  # not one new payload
    assert {r["profile"].rsplit("/", 1)[-1] for r in again} == {"server-not-modified"}
    assert second.report["requisites"]["archived"] == 0
    assert second.report["requisites"]["revisits"] == len(again)
    assert second.report["requisites"]["not_modified"] == len(again)
    assert_warcs_pass_check(second.out / "warc")


def test_requisites_asked_in_full_are_archived_as_identical_payload_revisits(
        site: RunningReplica, second: Run) -> None:
    third = _run(site, second.out, "-s", "ARCHIVER_REQUISITES_CONDITIONAL=False")
    assert third.process.returncode == 0
    again = _again(second, third)
    _assert_skeleton_asked_again(second, again)
    assert [r for r in again if r["type"] == "response"] == []
    assert {r["profile"].rsplit("/", 1)[-1] for r in again} == {"identical-payload-digest"}
    assert third.report["requisites"]["archived"] == 0
    assert third.report["requisites"]["not_modified"] == 0
    assert third.report["requisites"]["revisits"] == len(again)
    assert_warcs_pass_check(third.out / "warc")


def test_no_requisites_option_skips_them(site: RunningReplica, tmp_path: Path) -> None:
    run = _run(site, tmp_path / "out", "--no-requisites")
    assert run.process.returncode == 0
    assert not [uri for uri in run.asked if "/Portals/" in uri or "/desktopmodules/" in uri.lower()]
    assert run.report["requisites"]["requested"] == 0
    assert not (run.out / "requisite-failures.jsonl").exists()
