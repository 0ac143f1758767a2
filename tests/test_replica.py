"""The replica of defense.gov, tested over real HTTP on a free port."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import lxml.etree
import lxml.html
import pytest

from archiver.replica.process import RunningReplica

SCHEMA = json.loads(Path("archiver/schema/article.schema.json").read_text("utf-8"))
PROVENANCE_FIELDS = {"fetched_at", "warc", "extractor_version"}  # set by the crawl, not the page
SECTIONS = {"/News/News-Stories/": "news-story", "/News/Releases/": "release",
            "/News/Transcripts/": "transcript", "/News/Speeches/": "speech",
            "/News/Contracts/": "contract", "/News/Feature-Stories/": "feature",
            "/News/Advisories/": "advisory"}


def get(base: str, path: str, headers: dict[str, str] | None = None,
        method: str = "GET") -> http.client.HTTPResponse:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(method, path, headers=headers or {})
    response = conn.getresponse()
    response.read_body = response.read()  # type: ignore[attr-defined]
    conn.close()
    return response


def body(response: http.client.HTTPResponse) -> bytes:
    return response.read_body  # type: ignore[attr-defined,no-any-return]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def doc(base: str, path: str) -> lxml.html.HtmlElement:
    response = get(base, path)
    assert response.status == 200, path
    return lxml.html.fromstring(body(response))


def first_of(truth: list[dict], pred: Callable[[dict], bool]) -> dict:
    return next(r for r in truth if pred(r))


# -- start-up, options, signals ---------------------------------------------------------------------


def test_first_line_names_the_real_port(replica300: RunningReplica) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", replica300.base)
    assert replica300.port != 0
    assert get(replica300.base, "/robots.txt").status == 200


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stops_cleanly_on_signal(fresh_replica: Callable[..., RunningReplica], signum: int) -> None:
    running = fresh_replica("--articles", "10")
    running.process.send_signal(signum)
    assert running.process.wait(timeout=15) == 0


@pytest.mark.parametrize("args", [
    ["--articles", "zero"], ["--articles", "0"], ["--port", "70000"], ["--mutate", "150"],
    ["--historical-cutoff", "yesterday"], ["--bogus"], ["--no-serve"],
])
def test_invalid_options_give_one_line_and_exit_2(args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "archiver", "replica", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "error" in result.stderr


def test_port_in_use_says_so() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "archiver", "replica", "--port", str(port), "--articles", "10"],
            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr
    assert "in use" in result.stderr.lower()


# -- ground truth -----------------------------------------------------------------------------------


def test_truth_records_follow_the_schema(replica300: RunningReplica) -> None:
    schema = dict(SCHEMA, required=[f for f in SCHEMA["required"] if f not in PROVENANCE_FIELDS])
    truth = replica300.truth()
    assert len(truth) == 300
    for record in truth:
        jsonschema.validate(record, schema)
    assert len({r["article_id"] for r in truth}) == 300


def test_corpus_covers_every_type_era_and_feature(replica300: RunningReplica) -> None:
    truth = replica300.truth()
    types = Counter(r["content_type"] for r in truth)
    assert set(types) == {"news-story", "release", "transcript", "speech", "contract", "feature",
                          "advisory"}
    assert {r["replica"]["era"] for r in truth} == {"legacy", "modern"}
    assert {r["historical"] for r in truth} == {True, False}
    photo_counts = {len(r["images"]) for r in truth if r["content_type"] == "news-story"}
    assert {0, 1, 2, 3, 4} <= photo_counts
    assert any(r["videos"] for r in truth)
    assert any("\n\n## " in r["body"] for r in truth)
    assert any(r["authors"] for r in truth)
    assert any(len(r["authors"]) == 2 for r in truth)
    assert any(r["related"] for r in truth)
    assert any(r["tags"] for r in truth)
    transcript = first_of(truth, lambda r: r["content_type"] == "transcript")
    assert re.search(r"^Q: ", transcript["body"], re.M)
    assert re.search(r"^[A-Z. ]+: ", transcript["body"], re.M)


def test_historical_notice_follows_the_cutoff(fresh_replica: Callable[..., RunningReplica]) -> None:
    running = fresh_replica("--articles", "40", "--historical-cutoff", "2019-01-01", truth=True)
    cases = running.truth()
    assert cases
    for record in cases:
        assert record["historical"] == (record["published"] < "2019-01-01")
        text = doc(running.base, path_of(record["url"])).text_content()
        assert ("part of a historical collection" in text) == record["historical"]


# -- article pages --------------------------------------------------------------------------------


def test_every_article_page_keeps_the_real_chrome_and_the_truth_text(
        replica300: RunningReplica) -> None:
    cases = replica300.truth()
    assert cases
    for record in cases:
        page = doc(replica300.base, path_of(record["url"]))
        text = " ".join(page.text_content().split())
        assert "An official website of the United States Government" in text
        assert page.cssselect("div.header_banner_container")
        assert page.cssselect("div.subscribe")
        assert "Subscribe to War.gov Products" in text
        assert page.cssselect("#footer-main")
        assert len(page.cssselect(".adetail")) == 1
        assert " ".join(page.cssselect("h1.maintitle")[0].text_content().split()) == record["title"]
        for paragraph in record["body"].split("\n\n"):
            assert paragraph.removeprefix("## ") in text, (record["url"], paragraph)


@pytest.mark.parametrize("ctype", ["news-story", "release", "transcript", "speech", "contract",
                                   "feature", "advisory"])
@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_article_page_of_each_type_and_era(replica300: RunningReplica, ctype: str, era: str) -> None:
    record = first_of(replica300.truth(),
                      lambda r: r["content_type"] == ctype and r["replica"]["era"] == era)
    page = doc(replica300.base, path_of(record["url"]))
    container = page.cssselect(".adetail")[0]
    assert f"/Article/{record['article_id']}/" in record["url"]
    if era == "legacy":
        assert "news" in container.get("class").split()
        assert container.cssselect(".header h1.maintitle")
        assert page.cssselect('link[rel="canonical"]')[0].get("href") == record["canonical_url"]
    else:
        assert "aframe" in container.get("class").split()
        assert container.cssselect("header.content-wrap h1.maintitle")
    assert page.cssselect('meta[property="og:url"]')[0].get("content") == record["url"]
    assert container.cssselect(".body p")


def test_article_urls_follow_the_real_schemes(replica300: RunningReplica) -> None:
    schemes = {
        "news-story": r"/News/News-Stories/Article/Article/\d+/[a-z0-9-]+/",
        "release": r"/News/Releases/Release/Article/\d+/[a-z0-9-]+/",
        "transcript": r"/News/Transcripts/Transcript/Article/\d+/[a-z0-9-]+/",
        "speech": r"/News/Speeches/Speech/Article/\d+/[a-z0-9-]+/",
        "contract": r"/News/Contracts/Contract/Article/\d+/",
        "feature": r"/News/Feature-Stories/Story/Article/\d+/[a-z0-9-]+/",
        "advisory": r"/News/Advisories/Advisory/Article/\d+/[a-z0-9-]+/",
    }
    cases = replica300.truth()
    assert cases
    for record in cases:
        assert re.fullmatch(schemes[record["content_type"]], urlsplit(record["url"]).path)


def test_photos_repeat_their_caption_the_way_the_seed_shows(replica300: RunningReplica) -> None:
    record = first_of(replica300.truth(), lambda r: r["content_type"] == "news-story"
                      and r["replica"]["era"] == "legacy" and len(r["images"]) >= 2)
    page = doc(replica300.base, path_of(record["url"]))
    lines = [line.strip() for line in page.cssselect(".adetail")[0].text_content().splitlines()
             if line.strip()]
    assert record["images"]
    for image in record["images"]:
        at = lines.index(image["caption"])
        # inline caption (x3 as the naive scrape shows), popup title, popup caption, credit, VIRIN
        assert lines[at:at + 7] == [image["caption"]] * 3 + [
            image["title"], image["caption"], f"Photo By: {image['credit']}",
            f"VIRIN: {image['virin']}"]
        inline = page.xpath(f'//div[contains(@class,"media-inline")]//img[@alt="{image["alt"]}"]')
        assert inline


def test_video_player_renders_as_the_seed_shows(replica300: RunningReplica) -> None:
    record = first_of(replica300.truth(), lambda r: bool(r["videos"]))
    page = doc(replica300.base, path_of(record["url"]))
    lines = [line.strip() for line in page.cssselect(".adetail")[0].text_content().splitlines()
             if line.strip()]
    assert record["videos"]
    for video in record["videos"]:
        clock = f"{video['duration'] // 60:02d}:{video['duration'] % 60:02d}"
        at = lines.index(f"VIDEO | {clock} | {video['title']}")
        assert lines[at - 2:at] == [clock, "Play"]
        assert page.xpath(f'//video/source[@src="{video["src"]}"]')


def test_gallery_has_carousel_clones(replica300: RunningReplica) -> None:
    record = first_of(replica300.truth(), lambda r: r["content_type"] == "feature")
    page = doc(replica300.base, path_of(record["url"]))
    gallery = page.cssselect(".gallery")[0]
    real = gallery.xpath('./div[contains(@class,"item") and not(contains(@class,"slick-cloned"))]')
    assert len(gallery.cssselect(".slick-cloned")) == 2
    assert 3 <= len(real) <= len(record["images"])


def test_unknown_article_id_is_404(replica300: RunningReplica) -> None:
    assert get(replica300.base, "/News/News-Stories/Article/Article/999/nothing/").status == 404
    assert get(replica300.base, "/No/Such/Page").status == 404


def test_article_served_without_slug_or_with_a_wrong_one(replica300: RunningReplica) -> None:
    record = first_of(replica300.truth(), lambda r: r["content_type"] == "news-story")
    path = f"/News/News-Stories/Article/Article/{record['article_id']}/"
    for variant in (path, path + "some-old-title/"):
        page = doc(replica300.base, variant)
        assert page.cssselect('meta[property="og:url"]')[0].get("content") == record["url"]


# -- redirects ---------------------------------------------------------------------------------------


def test_legacy_news_article_url_redirects_301(replica300: RunningReplica) -> None:
    record = first_of(replica300.truth(), lambda r: r["content_type"] == "news-story")
    response = get(replica300.base, f"/News/NewsArticle.aspx?ID={record['article_id']}")
    assert response.status == 301
    assert response.getheader("Location") == record["url"]


def test_legacy_transcript_url_redirects_301(replica300: RunningReplica) -> None:
    record = first_of(replica300.truth(), lambda r: r["content_type"] == "transcript")
    response = get(replica300.base,
                   f"/Transcripts/Transcript.aspx?TranscriptID={record['article_id']}")
    assert response.status == 301
    assert response.getheader("Location") == record["url"]


def test_legacy_url_of_unknown_or_other_type_is_404(replica300: RunningReplica) -> None:
    release = first_of(replica300.truth(), lambda r: r["content_type"] == "release")
    path = f"/Transcripts/Transcript.aspx?TranscriptID={release['article_id']}"
    assert get(replica300.base, path).status == 404
    assert get(replica300.base, "/News/NewsArticle.aspx?ID=12").status == 404
    assert get(replica300.base, "/News/NewsArticle.aspx").status == 404


def test_archive_host_redirects_to_www(replica300: RunningReplica) -> None:
    record = first_of(replica300.truth(), lambda r: r["content_type"] == "news-story")
    response = get(replica300.base, f"/news/newsarticle.aspx?id={record['article_id']}",
                   headers={"Host": "archive.defense.gov"})
    assert response.status == 301
    assert response.getheader("Location") == "http://www.defense.gov" + urlsplit(record["url"]).path


def test_host_alias_redirects_defense_gov_to_war_gov(
        fresh_replica: Callable[..., RunningReplica]) -> None:
    running = fresh_replica("--articles", "20", "--host-alias")
    response = get(running.base, "http://www.defense.gov/News/Releases/?Page=2",
                   headers={"Host": "www.defense.gov"})
    assert response.status == 301
    assert response.getheader("Location") == "http://www.war.gov/News/Releases/?Page=2"
    page = lxml.html.fromstring(body(get(running.base, "http://www.war.gov/News/Releases/",
                                          headers={"Host": "www.war.gov"})))
    links = [a.get("href") for a in page.cssselect("h3.title a")]
    assert links
    assert all(link.startswith("http://www.war.gov/News/Releases/") for link in links)
    image = page.cssselect('meta[property="og:url"]')[0].get("content")
    assert image == "http://www.war.gov/News/Releases/"


def test_without_host_alias_defense_gov_is_served(replica300: RunningReplica) -> None:
    assert get(replica300.base, "/News/Releases/", headers={"Host": "www.defense.gov"}).status == 200


# -- HTTP behaviour ---------------------------------------------------------------------------------


def test_etag_gives_304(replica300: RunningReplica) -> None:
    path = path_of(replica300.truth()[0]["url"])
    first = get(replica300.base, path)
    etag = first.getheader("ETag")
    assert etag
    assert first.getheader("Last-Modified")
    again = get(replica300.base, path, headers={"If-None-Match": etag})
    assert again.status == 304
    assert body(again) == b""
    other = get(replica300.base, path, headers={"If-None-Match": '"0000"'})
    assert other.status == 200


def test_last_modified_gives_304_only_when_not_newer(replica300: RunningReplica) -> None:
    path = path_of(replica300.truth()[0]["url"])
    modified = parsedate_to_datetime(get(replica300.base, path).getheader("Last-Modified") or "")
    same = get(replica300.base, path, headers={"If-Modified-Since": format_datetime(modified, usegmt=True)})
    assert same.status == 304
    older = modified.replace(year=modified.year - 1)
    assert get(replica300.base, path,
               headers={"If-Modified-Since": format_datetime(older, usegmt=True)}).status == 200


def test_gzip_when_asked(replica300: RunningReplica) -> None:
    path = path_of(replica300.truth()[5]["url"])
    plain = get(replica300.base, path)
    zipped = get(replica300.base, path, headers={"Accept-Encoding": "gzip, deflate"})
    assert plain.getheader("Content-Encoding") is None
    assert zipped.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body(zipped)) == body(plain)
    assert zipped.getheader("Vary") == "Accept-Encoding"


def test_some_pages_are_chunked(replica300: RunningReplica) -> None:
    kinds = Counter()
    for record in replica300.truth()[:30]:
        response = get(replica300.base, path_of(record["url"]), headers={"Accept-Encoding": "gzip"})
        chunked = response.getheader("Transfer-Encoding") == "chunked"
        assert chunked == (int(record["article_id"]) % 3 == 0)
        assert chunked != bool(response.getheader("Content-Length"))
        kinds[chunked] += 1
    assert kinds[True]
    assert kinds[False]


def test_pages_set_several_cookies(replica300: RunningReplica) -> None:
    response = get(replica300.base, "/News/Releases/")
    assert len([v for k, v in response.getheaders() if k.lower() == "set-cookie"]) == 2


def test_images_are_real_jpeg_bytes(replica300: RunningReplica) -> None:
    record = first_of(replica300.truth(), lambda r: bool(r["images"]))
    response = get(replica300.base, path_of(record["images"][0]["src"]))
    assert response.status == 200
    assert response.getheader("Content-Type") == "image/jpeg"
    data = body(response)
    assert data[:3] == b"\xff\xd8\xff"
    assert data[-2:] == b"\xff\xd9"
    assert len(data) < 5000
    assert re.search(r"/\d{4}/[A-Z][a-z]{2}/\d{2}/\d+/-1/-1/0/[\w-]+\.JPG$", record["images"][0]["src"])


def test_same_seed_same_bytes_other_seed_other_bytes(
        fresh_replica: Callable[..., RunningReplica]) -> None:
    one = fresh_replica("--articles", "50", "--seed", "11")
    two = fresh_replica("--articles", "50", "--seed", "11")
    three = fresh_replica("--articles", "50", "--seed", "12")
    paths = ["/News/Archive/?Page=2", "/sitemap.xml", "/sitemaps/news-1.xml",
             "/DesktopModules/ArticleCS/RSS.ashx?ContentType=1&Site=945&max=10"]
    urls = [loc.text for loc in lxml.etree.fromstring(body(get(one.base, "/sitemaps/news-1.xml"))).iter(
        "{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    paths += [path_of(u) for u in urls[::7]]
    for path in paths:
        a, b = get(one.base, path), get(two.base, path)
        assert body(a).replace(str(one.port).encode(), b"PORT") == body(b).replace(
            str(two.port).encode(), b"PORT"), path
        zipped = [body(get(one.base, path, headers={"Accept-Encoding": "gzip"})) for _ in range(2)]
        assert zipped[0] == zipped[1]
    assert body(get(one.base, "/News/Archive/")).replace(str(one.port).encode(), b"") != body(
        get(three.base, "/News/Archive/")).replace(str(three.port).encode(), b"")


# -- site structure ---------------------------------------------------------------------------------


@pytest.mark.parametrize("section", SECTIONS)
def test_section_pagination_lists_each_article_once(replica300: RunningReplica, section: str) -> None:
    expected = [r["url"] for r in replica300.truth() if r["content_type"] == SECTIONS[section]]
    seen: list[str] = []
    path: str | None = section
    while path:
        page = doc(replica300.base, path)
        seen += [a.get("href") for a in page.cssselect("div.item figure figcaption h3.title > a")]
        nxt = page.cssselect("ul.pagination a.next")
        path = path_of(nxt[0].get("href")) if nxt else None
    assert seen == expected


def test_archive_listing_holds_everything_newest_first(replica300: RunningReplica) -> None:
    page = doc(replica300.base, "/News/Archive/")
    items = page.cssselect("div.item")
    assert len(items) == 10
    dates = [i.cssselect("time")[0].get("data-dateago") for i in items]
    assert dates == sorted(dates, reverse=True)
    assert [i.cssselect("h3.title a")[0].get("href") for i in items] == [
        r["url"] for r in replica300.truth()[:10]]
    for item in items:  # the real home page's listing markup
        assert item.cssselect("figure figcaption span.category a.content-type-text span")
        assert item.cssselect("time[data-dateap]")
        assert item.cssselect("p.summary")


def test_page_past_the_end_is_empty(replica300: RunningReplica) -> None:
    page = doc(replica300.base, "/News/Archive/?Page=999")
    assert not page.cssselect("div.item")
    assert not page.cssselect("a.next")


@pytest.mark.parametrize("code", ["1", "2", "9", "400", "800"])
def test_rss_feeds_at_real_paths(replica300: RunningReplica, code: str) -> None:
    response = get(replica300.base, f"/DesktopModules/ArticleCS/RSS.ashx?ContentType={code}&Site=945&max=5")
    assert response.status == 200
    root = lxml.etree.fromstring(body(response))
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    items = root.findall("channel/item")
    assert 1 <= len(items) <= 5
    by_url = {r["url"]: r for r in replica300.truth()}
    for item in items:
        record = by_url[item.findtext("link")]
        assert item.findtext("title") == record["title"]
        assert parsedate_to_datetime(item.findtext("pubDate") or "").date().isoformat() == record["published"]
    assert get(replica300.base, "/DesktopModules/ArticleCS/RSS.ashx?ContentType=77").status == 404


def test_sitemaps_index_and_children_list_every_article(fresh_replica: Callable[..., RunningReplica]) -> None:
    running = fresh_replica("--articles", "2100", truth=True)
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    index = lxml.etree.fromstring(body(get(running.base, "/sitemap.xml")))
    assert index.tag == f"{ns}sitemapindex"
    urls: list[str] = []
    for loc in index.iter(f"{ns}loc"):
        child = lxml.etree.fromstring(body(get(running.base, path_of(loc.text or ""))))
        assert child.tag == f"{ns}urlset"
        urls += [u.text or "" for u in child.iter(f"{ns}loc")]
    articles = [u for u in urls if "/Article/" in u]
    assert sorted(articles) == sorted(r["url"] for r in running.truth())
    assert "/News/Releases/" in {urlsplit(u).path for u in urls}


def test_robots_txt_has_crawl_delay_and_sitemap(fresh_replica: Callable[..., RunningReplica]) -> None:
    running = fresh_replica("--articles", "10", "--crawl-delay", "3")
    text = body(get(running.base, "/robots.txt")).decode()
    assert "Crawl-delay: 3\n" in text
    assert f"Sitemap: {running.base}/sitemap.xml" in text


# -- incremental-crawl support --------------------------------------------------------------------


def test_mutation_edits_some_articles_and_adds_new_ones(
        fresh_replica: Callable[..., RunningReplica]) -> None:
    before = fresh_replica("--articles", "100", "--seed", "5", truth=True)
    after = fresh_replica("--articles", "100", "--seed", "5", "--mutate", "10", "--new", "5", truth=True)
    old = {r["article_id"]: r for r in before.truth()}
    new = {r["article_id"]: r for r in after.truth()}
    added = new.keys() - old.keys()
    assert len(added) == 5
    assert old.keys() < new.keys()
    edited = [i for i in old if new[i]["body"] != old[i]["body"]]
    assert len(edited) == 10
    assert all(new[i]["replica"]["revision"] == 1 for i in edited)
    first_page = doc(after.base, "/News/Archive/")
    top = {re.search(r"/Article/(\d+)/", a.get("href")).group(1)  # type: ignore[union-attr]
           for a in first_page.cssselect("h3.title a")[:5]}
    assert top == added
    unchanged = next(i for i in old if i not in edited)
    for running in (before, after):
        assert get(running.base, path_of(old[unchanged]["url"])).getheader("ETag") == get(
            before.base, path_of(old[unchanged]["url"])).getheader("ETag")
    changed = path_of(old[edited[0]]["url"])
    assert get(after.base, changed).getheader("ETag") != get(before.base, changed).getheader("ETag")
    assert parsedate_to_datetime(get(after.base, changed).getheader("Last-Modified") or "") > \
        parsedate_to_datetime(get(before.base, changed).getheader("Last-Modified") or "")
