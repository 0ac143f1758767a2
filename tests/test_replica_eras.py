"""``archiver replica --era``: each era's pages have the real saved page's structure, the truth is
complete for every era and content type, the era listings read back, a crawl finds every article."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest

from archiver.extract.listing import read_listing
from archiver.replica import eras
from archiver.replica.process import RunningReplica, replica
from archiver.site import STATIC_PREFIX_TYPES, item_ref

#: byte copies of the real saved pages (fixtures/real/ of the shared fixtures)
SKELETON_DIR = Path("archiver/replica/data")
REAL_LISTING = Path("tests/fixtures/real/dnn2018-contracts-listing-prettified.html")
ALL_TYPES = {"news-story", "release", "transcript", "speech", "contract", "feature", "advisory"}
#: DefenseLink had no feature section: features were American Forces Press Service articles
ERA_TYPES = {"aspnet": ALL_TYPES - {"feature"}, "dnn": ALL_TYPES, "dgov2": ALL_TYPES, "wargov": ALL_TYPES,
             eras.STATIC: ALL_TYPES - {"feature"}}
LEGACY_URL = re.compile(
    r"/(news/newsarticle\.aspx\?id|Releases/Release\.aspx\?ReleaseID|"
    r"transcripts/transcript\.aspx\?transcriptid|speeches/speech\.aspx\?speechid|contracts/contract\.aspx\?contractid|advisories/advisory\.aspx\?advisoryid)"
    r"=(\d+)$")
KIND_OF_PARAM = {"id": "newsarticle", "ReleaseID": "release", "transcriptid": "transcript",
                 "speechid": "speech", "contractid": "contract", "advisoryid": "advisory"}


@pytest.fixture(scope="module")
def era_sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RunningReplica]]:
    """One 70-article replica per era (seed 4), with its truth."""
    with ExitStack() as stack:
        sites = {}
        for era in eras.ERAS:
            folder = tmp_path_factory.mktemp(f"era-{era}")
            sites[era] = stack.enter_context(replica("--articles", "70", "--seed", "4", "--crawl-delay", "0",
                                                     "--page-size", "10", "--era", era, truth_dir=folder))
        yield sites


def get(base: str, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", path, headers={"Host": host} if host else {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def page_of(site: RunningReplica, url: str) -> tuple[dict[str, str], bytes]:
    status, headers, data = get(site.base, path_of(url))
    assert status == 200, url
    return headers, data


def first(site: RunningReplica, ctype: str, **wanted: object) -> dict:
    return next(r for r in site.truth() if r["content_type"] == ctype
                and all(r[key] == value for key, value in wanted.items()))


# -- ground truth ---------------------------------------------------------------------------------


@pytest.mark.parametrize("era", eras.ERAS)
def test_truth_covers_every_content_type_of_the_era(era_sites: dict[str, RunningReplica], era: str) -> None:
    truth = era_sites[era].truth()
    assert {r["content_type"] for r in truth} == ERA_TYPES[era]
    assert {r["markup_era"] for r in truth} == {era}
    assert {r["replica"]["era"] for r in truth} == {era}
    low, high = eras.SPANS[era]
    assert all(low.date().isoformat() <= r["published"] <= high.date().isoformat() for r in truth)


@pytest.mark.parametrize("era", eras.ERAS)
def test_truth_record_is_complete(era_sites: dict[str, RunningReplica], era: str) -> None:
    required = ("url", "canonical_url", "article_id", "content_type", "title", "published", "authors", "body",
                "images", "videos", "tags", "related", "historical", "markup_era", "legacy_id")
    cases = era_sites[era].truth()
    assert cases
    for record in cases:
        assert all(key in record for key in required), record["url"]
        assert record["title"]
        assert record["body"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["published"])


def test_aspnet_ids_are_legacy_kind_and_number(era_sites: dict[str, RunningReplica]) -> None:
    cases = era_sites["aspnet"].truth()
    assert cases
    for record in cases:
        match = LEGACY_URL.search(record["url"])
        assert match, record["url"]
        kind, number = KIND_OF_PARAM[match.group(1).rsplit("?", 1)[1]], int(match.group(2))
        assert record["article_id"] == f"{kind}:{number}"
        assert record["legacy_id"] == {"kind": kind, "number": str(number)}
        assert eras.LEGACY_KINDS[record["content_type"]].kind == kind
        assert record["canonical_url"] == record["url"]
        assert (record["images"], record["videos"], record["tags"], record["related"]) == ([], [], [], [])
        assert record["historical"] is False


@pytest.mark.parametrize("era", ["dnn", "dgov2", "wargov"])
def test_current_ids_have_no_legacy_id(era_sites: dict[str, RunningReplica], era: str) -> None:
    cases = era_sites[era].truth()
    assert cases
    for record in cases:
        assert record["legacy_id"] is None
        assert re.fullmatch(r"\d+", record["article_id"])
        assert f"/Article/{record['article_id']}/" in record["url"]


def test_dnn_urls_and_canonical(era_sites: dict[str, RunningReplica]) -> None:
    prefixes = {r["content_type"]: urlsplit(r["url"]).path.split("/Article/")[0] + "/Article/"
                for r in era_sites["dnn"].truth()}
    assert prefixes == {ctype: eras.DNN_PREFIXES[ctype].replace("/Article/Article/", "/Article/")
                        if ctype == "news-story" else eras.DNN_PREFIXES[ctype] for ctype in ALL_TYPES}
    contract = first(era_sites["dnn"], "contract")
    assert contract["canonical_url"] == contract["url"]  # the page's og:url ``/<id>//``, collapsed
    assert contract["body"].startswith("## ")  # an agency: the page's "CONTRACTS" line is its label
    assert not contract["body"].startswith("## CONTRACTS")
    assert contract["body"].endswith("\n\n*Small business")


def test_historical_notice_per_era(era_sites: dict[str, RunningReplica]) -> None:
    dnn = era_sites["dnn"].truth()
    assert {r["historical"] for r in dnn} == {True, False}
    assert all(r["historical"] == (r["published"] < eras.DNN_HISTORICAL_CUTOFF.isoformat()) for r in dnn)
    for era, notice in (("dnn", "provided for historical purposes only"),
                        ("dgov2", "part of a historical collection")):
        for record in era_sites[era].truth()[::7]:
            text = lxml.html.fromstring(page_of(era_sites[era], record["url"])[1]).text_content()
            assert (notice in text) == record["historical"], record["url"]


def test_mixed_serves_each_article_in_the_markup_of_its_date(tmp_path: Path) -> None:
    out = tmp_path / "truth.jsonl"
    subprocess.run([sys.executable, "-m", "archiver", "replica", "--era", "mixed", "--articles", "400",
                    "--dump-truth", str(out), "--no-serve"], check=True, capture_output=True, timeout=120)
    truth = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert {r["markup_era"] for r in truth} == set(eras.ERAS)
    for record in truth:
        assert record["markup_era"] == eras.era_for(date.fromisoformat(record["published"]))


@pytest.mark.parametrize(("value", "era"), [("aspnet", "aspnet"), ("2006", "aspnet"), ("2016", "dnn"),
                                            ("2021", "dgov2"), ("MIXED", "mixed"),
                                            ("defenselink-static", eras.STATIC), ("1998", eras.STATIC),
                                            ("1995", eras.STATIC), ("1999", "aspnet")])
def test_era_option_takes_a_name_or_a_year(value: str, era: str) -> None:
    assert eras.parse_era(value) == era


@pytest.mark.parametrize("value", ["1990", "geocities", ""])
def test_bad_era_exits_2_with_one_line(value: str) -> None:
    result = subprocess.run([sys.executable, "-m", "archiver", "replica", "--era", value, "--no-serve",
                             "--dump-truth", "/dev/null"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


# -- the pages have the real skeleton of their era ---------------------------------------------------


def _ids(doc: lxml.html.HtmlElement) -> set[str]:
    return {e.get("id") for e in doc.iter() if isinstance(e.tag, str) and e.get("id")}


def _classes(node: lxml.html.HtmlElement) -> set[str]:
    return {c for e in node.iter() if isinstance(e.tag, str) for c in (e.get("class") or "").split()}


#: (era, real page, content type of the real page, selector of the article container)
SKELETONS = [
    ("aspnet", "skeleton-aspnet.html", "release", "#lblArticleContent"),  # defenselink-2006-release-10242
    ("dnn", "skeleton-dnn.html", "contract", "div.adetail"),  # dnn2018-contract-605989
    ("dgov2", "skeleton-dgov2.html", "release", "div.adetail"),  # dgov2-2021-release-2411893
]


@pytest.mark.parametrize(("era", "real", "ctype", "container"), SKELETONS)
def test_page_has_the_ids_and_container_classes_of_the_real_page(
        era_sites: dict[str, RunningReplica], era: str, real: str, ctype: str, container: str) -> None:
    real_doc = lxml.html.fromstring((SKELETON_DIR / real).read_bytes())
    record = first(era_sites[era], ctype, historical=era == "dnn")  # the saved DNN page shows the banner
    doc = lxml.html.fromstring(page_of(era_sites[era], record["url"])[1])
    assert _ids(real_doc) <= _ids(doc)
    assert _classes(real_doc.cssselect(container)[0]) <= _classes(doc.cssselect(container)[0])
    assert len(doc.cssselect(container)) == 1


@pytest.mark.parametrize("ctype", sorted(ERA_TYPES["aspnet"]))
def test_aspnet_page_furniture(era_sites: dict[str, RunningReplica], ctype: str) -> None:
    record = first(era_sites["aspnet"], ctype)
    headers, data = page_of(era_sites["aspnet"], record["url"])
    text = " ".join(lxml.html.fromstring(data).text_content().split())
    for furniture in ("U.S. Department of Defense", "On the Web:", "Media contact:", "Public contact:",
                      "Printer-friendly Version", "Email A Copy", record["title"],
                      eras.LEGACY_KINDS[ctype].label):
        assert furniture in text, furniture
    assert f"On the Web: {record['url']}" in text
    numbered = ctype in {"release", "contract"}
    assert ("IMMEDIATE RELEASE" in text) == numbered
    assert bool(re.search(r"No\. \d{3,4}-\d\d", text)) == numbered
    assert "charset" not in headers["content-type"]
    assert b"\r\n" in data
    assert data.count(b"\n") == data.count(b"\r\n")  # CRLF line ends, as the saved page


def test_aspnet_bytes_undeclared_utf8_or_windows_1252(era_sites: dict[str, RunningReplica]) -> None:
    kinds = Counter()
    for record in era_sites["aspnet"].truth():
        typographic = next((p for p in record["body"].split("\n\n") if not p.isascii()), None)
        if typographic is None:
            continue
        _, data = page_of(era_sites["aspnet"], record["url"])
        if int(record["legacy_id"]["number"]) % 2 == 0:
            assert b"charset" not in data.lower()
            encoding = "utf-8"
        else:
            assert b'content="text/html; charset=windows-1252"' in data
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
            encoding = "cp1252"
        text = " ".join(lxml.html.fromstring(data.decode(encoding)).text_content().split())
        assert typographic.removeprefix("## ") in text
        kinds[encoding] += 1
    assert kinds["utf-8"]
    assert kinds["cp1252"]


def test_dnn_page_furniture(era_sites: dict[str, RunningReplica]) -> None:
    record = first(era_sites["dnn"], "contract")
    doc = lxml.html.fromstring(page_of(era_sites["dnn"], record["url"])[1])
    container = doc.cssselect("div.adetail.contract")[0]
    assert container.cssselect("h1.title")[0].text_content().strip() == "Contracts"
    assert doc.cssselect("meta[property='og:title']")[0].get("content") == record["title"]
    assert doc.cssselect("meta[property='og:url']")[0].get("content") == record["url"] + "/"  # as the real
    assert container.cssselect("span.text p")[0].text_content().strip() == "CONTRACTS"
    assert re.search(r"Release No: CR-\d{3}-\d\d", container.cssselect("span.date")[0].text_content())
    assert [a.text_content() for a in container.cssselect("span.sub-action a")] == ["PRINT", "E-MAIL"]
    assert container.cssselect("span.text p")


def test_legacy_pages_on_any_host_and_in_any_case(era_sites: dict[str, RunningReplica]) -> None:
    site = era_sites["aspnet"]
    record = first(site, "release")
    number = int(record["legacy_id"]["number"])
    for host in ("www.defenselink.mil", "archive.defense.gov", "www.defense.gov"):
        status, _, data = get(site.base, f"/releases/release.aspx?releaseid={number}", host=host)
        assert status == 200, host
        assert f"http://{host}/Releases/Release.aspx?ReleaseID={number}".encode() in data
    assert get(site.base, f"/Releases/Release.aspx?ReleaseID={number + 1}")[0] == 404
    speech = int(first(site, "speech")["legacy_id"]["number"])
    assert get(site.base, f"/Releases/Release.aspx?ReleaseID={speech}")[0] == 404  # another kind's number


def test_era_article_urls_of_other_eras_are_404(era_sites: dict[str, RunningReplica]) -> None:
    release = first(era_sites["dnn"], "release")
    assert get(era_sites["dnn"].base, "/Releases/Release.aspx?ReleaseID=2003")[0] == 404
    assert get(era_sites["aspnet"].base, path_of(release["url"]))[0] == 404


# -- the 1990s static pages (defenselink-static) -------------------------------------------------------

STATIC_URL = re.compile(r"^http://[^/]+(/news/(?P<mon>[A-Z][a-z]{2})(?P<year>\d{4})/(?P<letter>[a-z])"
                        r"(?P<mmddyyyy>\d{8})_[\w-]+\.html)$")


def test_static_ids_are_the_lowercased_path(era_sites: dict[str, RunningReplica]) -> None:
    cases = era_sites[eras.STATIC].truth()
    assert cases
    for record in cases:
        match = STATIC_URL.match(record["url"])
        assert match, record["url"]
        path = match.group(1).lower()
        assert record["article_id"] == f"static:{path}"
        assert record["legacy_id"] == {"kind": "static", "number": None, "path": path}
        assert STATIC_PREFIX_TYPES[match.group("letter")] == record["content_type"]
        published = date.fromisoformat(record["published"])
        assert match.group("mmddyyyy") == f"{published:%m%d%Y}"
        assert (match.group("mon"), int(match.group("year"))) == (f"{published:%b}", published.year)
        assert record["canonical_url"] == record["url"]
        assert (record["images"], record["videos"], record["tags"], record["related"]) == ([], [], [], [])
        assert record["historical"] is False


@pytest.mark.parametrize("ctype", sorted(ERA_TYPES[eras.STATIC]))
def test_static_page_furniture(era_sites: dict[str, RunningReplica], ctype: str) -> None:
    record = first(era_sites[eras.STATIC], ctype)
    headers, data = page_of(era_sites[eras.STATIC], record["url"])
    doc = lxml.html.fromstring(data.decode("cp1252"))
    text = " ".join(doc.text_content().split())
    assert doc.findtext(".//title") == f"DefenseLINK News: {record['title']}"
    assert doc.cssselect("img[alt='DefenseLINK News']")
    headline = doc.cssselect("h3")[0].text_content()
    assert headline.casefold() == record["title"].casefold()  # capitals on releases, contracts, memoranda
    published = date.fromisoformat(record["published"])
    assert f"{published:%B} {published.day}, {published.year}" in text
    numbered = ctype in {"release", "contract"}
    assert ("IMMEDIATE RELEASE" in text) == numbered
    assert ("OFFICE OF ASSISTANT SECRETARY OF DEFENSE (PUBLIC AFFAIRS)" in text) == numbered
    assert bool(re.search(rf"No\. \d{{3,}}-{published:%y}", text)) == numbered
    assert ("-END-" in text) == (ctype in {"release", "contract", "advisory"})
    assert "[ DefenseLINK News |" in text
    # HTML 3.2: no stylesheet, no class, no script; the server names no charset
    assert not doc.cssselect("link, style, script, [class], [id]")
    assert headers["content-type"] == "text/html"


def test_static_bytes_windows_1252_declared_or_not(era_sites: dict[str, RunningReplica]) -> None:
    kinds = Counter()
    for record in era_sites[eras.STATIC].truth():
        typographic = next((p for p in record["body"].split("\n\n") if not p.isascii()), None)
        if typographic is None:
            continue
        _, data = page_of(era_sites[eras.STATIC], record["url"])
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        declared = b'CONTENT="text/html; charset=iso-8859-1"' in data
        assert declared or b"charset" not in data.lower()
        text = " ".join(lxml.html.fromstring(data.decode("cp1252")).text_content().split())
        assert typographic.removeprefix("## ") in text
        kinds[declared] += 1
    assert kinds[True]
    assert kinds[False]


def test_static_pages_on_any_host_and_in_any_case(era_sites: dict[str, RunningReplica]) -> None:
    site = era_sites[eras.STATIC]
    path = path_of(first(site, "release")["url"])
    for host in ("www.defenselink.mil", "defenselink.mil", "www.defense.gov"):
        assert get(site.base, path.upper(), host=host)[0] == 200, host
    assert get(site.base, path.replace(".html", "0.html"))[0] == 404
    assert get(era_sites["aspnet"].base, path)[0] == 404  # not a page of another era


def test_static_sections_lead_to_the_newest_month_index(era_sites: dict[str, RunningReplica]) -> None:
    site = era_sites[eras.STATIC]
    newest = first(site, "release")
    published = date.fromisoformat(newest["published"])
    index = f"/news/{published:%b}{published.year}/releases.html"
    for start in ("/News/Releases/", "/news/releases.html"):
        status, headers, _ = get(site.base, start)
        assert (status, path_of(headers["location"])) == (301, index)
    status, _, data = get(site.base, index)
    assert status == 200
    listing = read_listing(data, site.base + index)
    assert listing.entries[0].url == newest["url"]
    assert item_ref(site.base + index) is None  # the index names no item


# -- listings --------------------------------------------------------------------------------------


def _walk(base: str, start: str, host: str | None = None) -> tuple[list[tuple[str, str | None]], int]:
    """Every (url, date) the listing parser reads from ``start`` on, following its next pages."""
    seen: list[tuple[str, str | None]] = []
    path: str | None = start
    pages = 0
    while path:
        status, headers, data = get(base, path, host)
        if status == 301:
            path = path_of(headers["location"])
            continue
        assert status == 200, path
        pages += 1
        listing = read_listing(data, base + path)
        seen += [(e.url, e.published.isoformat() if e.published else None) for e in listing.entries]
        path = path_of(listing.next_url) if listing.next_url else None
        assert pages < 200
    return seen, pages


@pytest.mark.parametrize("era", eras.ERAS)
@pytest.mark.parametrize("section", ["/News/Releases/", "/News/Contracts/", "/News/News-Stories/"])
def test_section_listing_of_each_era_reads_back(era_sites: dict[str, RunningReplica], era: str,
                                                section: str) -> None:
    site = era_sites[era]
    ctype = {"/News/Releases/": "release", "/News/Contracts/": "contract",
             "/News/News-Stories/": "news-story"}[section]
    expected = [(r["url"], r["published"]) for r in site.truth() if r["content_type"] == ctype]
    seen, pages = _walk(site.base, section)
    assert seen == expected
    assert pages > 1


def test_aspnet_section_redirects_to_the_newest_monthly_list(era_sites: dict[str, RunningReplica]) -> None:
    site = era_sites["aspnet"]
    status, headers, _ = get(site.base, "/News/News-Stories/")
    assert status == 301
    newest = first(site, "news-story")
    query = parse_qs(urlsplit(headers["location"]).query)
    assert query == {"SectionID": ["0"], "mo": [str(int(newest["published"][5:7]))],
                     "yr": [newest["published"][:4]]}
    assert urlsplit(headers["location"]).path == "/news/articles.aspx"


def test_real_dnn_listing_reads_links_dates_and_last_page() -> None:
    data = REAL_LISTING.read_bytes()
    listing = read_listing(data, "https://www.defense.gov/News/Contracts/?Page=32")
    ids = [int(e.url.rstrip("/").rsplit("/", 1)[1]) for e in listing.entries]
    assert ids == list(range(605988, 605967, -1))
    assert all(e.url.startswith("https://www.defense.gov/News/Contracts/Contract-View/Article/")
               for e in listing.entries)
    doc = lxml.html.fromstring(data)
    titles = [" ".join(a.text_content().split()) for a in doc.cssselect("div.alist div.item div.title a")]
    dates = [e.published for e in listing.entries if e.published]
    assert [f"Contracts For {d:%B} {d.day}, {d.year}" for d in dates] == titles
    assert listing.next_url is None  # page 32 is the last: nothing after li.active


def test_dnn_pager_next_is_the_page_after_the_active_one() -> None:
    data = REAL_LISTING.read_bytes().replace(
        b'<li class="active">', b"<li>").replace(
        b'<li>\n                <a href="https://www.defense.gov/News/Contracts/?Page=30">',
        b'<li class="active">\n                <a href="https://www.defense.gov/News/Contracts/?Page=30">')
    listing = read_listing(data, "https://www.defense.gov/News/Contracts/?Page=30")
    assert listing.next_url == "https://www.defense.gov/News/Contracts/?Page=31"


# -- a crawl of an era replica ----------------------------------------------------------------------


@pytest.mark.parametrize("era", ["aspnet", "dnn", eras.STATIC])
def test_crawl_of_an_era_replica_archives_every_article(era_sites: dict[str, RunningReplica], era: str,
                                                        tmp_path: Path) -> None:
    site = era_sites[era]
    result = subprocess.run(
        [sys.executable, "-m", "archiver", "crawl", "--site", site.base, "--out", str(tmp_path),
         "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "--progress", "0"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    failures = (tmp_path / "failures.jsonl").read_text("utf-8")
    archived = [json.loads(line) for line in (tmp_path / "articles.jsonl").read_text("utf-8").splitlines()]
    assert sorted(r["url"] for r in archived) == sorted(r["url"] for r in site.truth()), failures[:2000]
    # every requisite of the era's pages is served by the replica itself (docs/replica.md): none
    # missing, none asked of the real site's hosts (the real pages' absolute www.defense.gov and
    # www.defenselink.mil URLs are the replica's own); fonts.googleapis.com alone is another host
    requisites = json.loads((tmp_path / "report.json").read_text("utf-8"))["requisites"]
    missing = tmp_path / "requisite-failures.jsonl"
    assert not missing.exists(), missing.read_text("utf-8")[:2000]
    assert requisites["archived"] > 0
    assert requisites["skipped"]["offsite"] == (1 if era == "dnn" else 0)
