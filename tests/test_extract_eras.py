"""Every era of defense.gov (issue 16): URL forms and ids, era furniture, the eras' notices, charsets,
web-archive playback, pages that are not news. The per-field checks of the real pages are fixture
cases (``tests/fixtures/*/real-*``, ``*/reconstructed-*``); these tests pin what those cannot say."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from archiver.cli import ArgumentParser
from archiver.extract import refusal_reason
from archiver.extract.decode import decode_html
from archiver.items import ArticleItem
from archiver.offline.extractcommands import add_extract_command
from archiver.runtime.compact import id_key
from archiver.site import ARTICLE_URL, SITE_HOSTS, article_id_of, item_ref, legacy_id_of
from pipelines.base import DictStats
from pipelines.chain import extract_record
from pipelines.duplicates import DropDuplicatesPipeline
from pipelines.validate import problems
from spiders.sitemap import SitemapSpider

REAL = Path(__file__).parent / "fixtures"
DEFENSELINK = REAL / "release" / "real-defenselink-10242" / "body.html"
DNN = REAL / "contract" / "real-dnn-605989" / "body.html"
WAYBACK = REAL / "release" / "real-wayback-2853121" / "body.html"
BIO = REAL / "not-article" / "real-defenselink-bio-cambone" / "body.html"
WAR_GOV = REAL / "release" / "real-3981590" / "body.html"
DGOV2 = REAL / "release" / "real-dgov2-2411893" / "body.html"


def record_of(path: Path) -> dict[str, Any]:
    info = json.loads((path.parent / "info.json").read_text("utf-8"))
    record = extract_record(info["url"], path.read_bytes(), info.get("headers"), info.get("fetched_at", ""))
    assert record is not None
    return record


# -- URL forms -------------------------------------------------------------------------------------

LEGACY_FORMS = [
    ("/news/newsarticle.aspx?id=2345", "newsarticle:2345", "news-story"),
    ("/News/NewsArticle.aspx?ID=2345", "newsarticle:2345", "news-story"),
    ("/Releases/Release.aspx?ReleaseID=10242", "release:10242", "release"),
    ("/releases/release.aspx?releaseid=10242", "release:10242", "release"),
    ("/transcripts/transcript.aspx?transcriptid=3831", "transcript:3831", "transcript"),
    ("/Transcripts/Transcript.aspx?TranscriptID=3831", "transcript:3831", "transcript"),
    ("/speeches/speech.aspx?speechid=1081", "speech:1081", "speech"),
    ("/Speeches/Speech.aspx?SpeechID=1081", "speech:1081", "speech"),
    ("/contracts/contract.aspx?contractid=4321", "contract:4321", "contract"),
    ("/Contracts/Contract.aspx?ContractID=4321", "contract:4321", "contract"),
    ("/advisories/advisory.aspx?advisoryid=2828", "advisory:2828", "advisory"),
    ("/Advisories/Advisory.aspx?AdvisoryID=2828", "advisory:2828", "advisory"),
    ("/news/newsarticle.aspx?lang=en&id=2345", "newsarticle:2345", "news-story"),
]
CURRENT_FORMS = [
    ("/News/Article/Article/603287/carter-visits-troops/", "603287", "news-story"),
    ("/News/Contracts/Contract-View/Article/605989/", "605989", "contract"),
    ("/News/News-Releases/News-Release-View/Article/605990/", "605990", "release"),
    ("/News/Transcripts/Transcript-View/Article/606000/", "606000", "transcript"),
    ("/News/Speeches/Speech-View/Article/606001/", "606001", "speech"),
    ("/News/News-Stories/Article/Article/1089225/x/", "1089225", "news-story"),
    ("/News/Releases/Release/Article/3981590/dod-announces/", "3981590", "release"),
    ("/News/Transcripts/Transcript/Article/1065051/", "1065051", "transcript"),
    ("/News/Contracts/Contract/Article/4319114/", "4319114", "contract"),
    ("/news/releases/release/article/3981590/", "3981590", "release"),
]
STATIC_FORMS = [
    ("/news/Jun1998/b06011998_bt270-98.html", "static:/news/jun1998/b06011998_bt270-98.html", "release"),
    ("/NEWS/JUN1998/N06011998_9806011.HTML", "static:/news/jun1998/n06011998_9806011.html", "news-story"),
    ("/news/Sep1996/t09041996_t0904asd.html", "static:/news/sep1996/t09041996_t0904asd.html", "transcript"),
]
HOSTS = ["www.defenselink.mil", "defenselink.mil", "www.defense.gov", "dod.defense.gov",
         "archive.defense.gov", "www.war.gov"]


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize(("path", "article_id", "content_type"), LEGACY_FORMS + CURRENT_FORMS + STATIC_FORMS)
def test_every_url_form_names_its_item_on_every_host(host: str, path: str, article_id: str,
                                                     content_type: str) -> None:
    for scheme in ("http", "https"):
        ref = item_ref(f"{scheme}://{host}{path}")
        assert ref is not None
        assert (ref.article_id, ref.content_type) == (article_id, content_type)
        assert article_id_of(f"{scheme}://{host.upper()}{path}") == article_id


@pytest.mark.parametrize("host", HOSTS)
def test_the_site_hosts_are_known(host: str) -> None:
    assert host in SITE_HOSTS


@pytest.mark.parametrize(("path", "article_id", "_type"), LEGACY_FORMS + CURRENT_FORMS + STATIC_FORMS)
def test_the_cheap_article_url_test_agrees(path: str, article_id: str, _type: str) -> None:
    assert ARTICLE_URL.search("https://www.defense.gov" + path)
    assert SitemapSpider.sitemap_rules[0][0].search("http://www.defenselink.mil" + path)


@pytest.mark.parametrize("url", [
    "https://www.defense.gov/News/Releases/", "https://www.defense.gov/", "/Releases/Release.aspx",
    "/news/newsarticle.aspx?grid=12", "/news/articles.aspx?SectionID=0&mo=5&yr=2002",
    "/bios/cambone_bio.html", "/news/Jun1998/", "/news/Jun1998/releases.html", "/news/JUN1998/INDEX.HTML", "",
])
def test_urls_that_name_no_item(url: str) -> None:
    assert item_ref(url) is None


def test_legacy_numbers_are_their_own_number_space() -> None:
    release = article_id_of("/Releases/Release.aspx?ReleaseID=10242")
    article = article_id_of("/News/Article/Article/10242/")
    assert (release, article) == ("release:10242", "10242")
    assert release is not None
    assert article is not None
    assert id_key(release) != id_key(article)
    assert legacy_id_of(release) == {"kind": "release", "number": "10242"}
    assert legacy_id_of(article) is None
    assert legacy_id_of("static:/news/jun1998/x.html") == {"kind": "static", "number": None,
                                                          "path": "/news/jun1998/x.html"}


def test_duplicate_detection_keeps_both_number_spaces() -> None:
    pipeline = DropDuplicatesPipeline(DictStats())
    for article_id in ("release:10242", "10242", "newsarticle:10242", "static:/news/jun1998/a.html"):
        pipeline.process_article(ArticleItem(url="u", article_id=article_id))
    assert len(pipeline.kept) == 4


@pytest.mark.parametrize(("article_id", "valid"), [
    ("605989", True), ("release:10242", True), ("newsarticle:1", True), ("static:/news/jun1998/b.html", True),
    ("release:", False), ("story:12", False), ("12a", False), ("static:", False),
])
def test_the_schema_accepts_every_id_form_and_no_other(article_id: str, valid: bool) -> None:
    record = record_of(DNN)
    record["article_id"] = article_id
    assert (not [p for p in problems(record) if p[0] == "article_id"]) is valid


# -- era furniture ---------------------------------------------------------------------------------

DEFENSELINK_FURNITURE = ("U.S. Department of Defense", "Office of the Assistant Secretary", "News Release",
                         "On the Web", "Media contact", "Public contact", "IMMEDIATE RELEASE", "No. 1221-06",
                         "Printer-friendly", "Email A Copy", "703", "Stephen A. Cambone to Resign")


@pytest.mark.parametrize("phrase", DEFENSELINK_FURNITURE)
def test_defenselink_furniture_stays_out_of_the_body(phrase: str) -> None:
    assert phrase not in record_of(DEFENSELINK)["body"]


def test_defenselink_date_is_the_releases_not_the_site_headers() -> None:
    assert "Dec. 06, 2006" in DEFENSELINK.read_text("utf-8")  # the site header's date of the day served
    assert record_of(DEFENSELINK)["published"] == "2006-12-01"


@pytest.mark.parametrize("phrase", ["historical purposes", "Press Operations", "PRINT", "E-MAIL",
                                    "Release No", "CR-145-14", "DOD Webmaster"])
def test_dnn_furniture_stays_out_of_the_body(phrase: str) -> None:
    assert phrase not in record_of(DNN)["body"]


def test_dnn_historical_banner_sets_historical_and_the_dated_title_wins() -> None:
    record = record_of(DNN)
    assert record["historical"] is True
    assert record["title"] == "Contracts for July 31, 2014"
    assert not record["body"].lower().startswith("## contracts")
    assert record["body"].startswith("## ARMY\n\nHoneywell Aerospace International")


@pytest.mark.parametrize(("path", "era"), [(DEFENSELINK, "aspnet"), (DNN, "dnn"), (DGOV2, "dgov2"),
                                           (WAYBACK, "dgov2"), (WAR_GOV, "wargov")])
def test_markup_era(path: Path, era: str) -> None:
    assert record_of(path)["markup_era"] == era


def _dgov2_page(site_name: str) -> bytes:
    meta = f'<meta property="og:site_name" content="{site_name}">' if site_name else ""
    return (f'<html><head>{meta}<title>t</title></head><body><div class="adetail aframe">'
            '<h1 class="maintitle">A headline</h1><div class="date">Oct. 1, 2025</div>'
            '<div class="body"><p>Text.</p></div></div></body></html>').encode()


@pytest.mark.parametrize(("site_name", "host", "era"), [
    ("U.S. Department of War", "www.defense.gov", "wargov"),
    ("U.S. Department of Defense", "www.war.gov", "dgov2"),
    ("", "www.war.gov", "wargov"),
    ("", "www.defense.gov", "dgov2"),
])
def test_wargov_is_the_pages_branding_else_its_host(site_name: str, host: str, era: str) -> None:
    record = extract_record(f"https://{host}/News/Releases/Release/Article/4000001/", _dgov2_page(site_name))
    assert record is not None
    assert record["markup_era"] == era


# -- charsets --------------------------------------------------------------------------------------


def test_undeclared_utf8_page_decodes_without_mojibake() -> None:
    body = DEFENSELINK.read_bytes()
    assert b"charset" not in body.lower()
    decoded = decode_html(body, {})
    assert decoded.encoding == "utf-8"
    assert "President’s national security team" in decoded.text
    assert not re.search("â€|Ã|\ufffd", decoded.text)


def test_undeclared_windows_1252_page_decodes_right() -> None:
    body = (REAL / "release" / "reconstructed-defenselink-windows-1252" / "body.html").read_bytes()
    assert b"\x93It has been" in body
    assert b"charset" not in body.lower()
    decoded = decode_html(body, {"Content-Type": "text/html"})
    assert decoded.encoding == "cp1252"
    assert "“It has been a distinct honor" in decoded.text
    assert "President’s" in decoded.text
    assert "\ufffd" not in decoded.text


def test_latin1_labelled_windows_1252_page_decodes_right() -> None:
    body = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head>' \
           '<body><p>“Quoted” — it’s</p></body></html>'
    decoded = decode_html(body.encode("cp1252"))
    assert "“Quoted” — it’s" in decoded.text


# -- web-archive playback --------------------------------------------------------------------------


def _urls(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [u for v in value.values() for u in _urls(v)]
    if isinstance(value, list):
        return [u for v in value for u in _urls(v)]
    return [value] if isinstance(value, str) and re.match(r"^https?://", value) else []


def test_playback_record_carries_only_the_original_sites_urls() -> None:
    record = record_of(WAYBACK)
    urls = [record["url"], record["canonical_url"], *_urls(record["related"]), *_urls(record["images"]),
            *_urls(record["videos"])]
    assert urls
    assert all(urlsplit_host(u) == "www.defense.gov" for u in urls[:2])
    assert not [u for u in urls if "archive.org" in u]
    assert "wombat" not in record["body"]
    assert "Wayback" not in record["body"]


def test_playback_is_told_by_the_archives_scripts_not_by_words_in_the_page() -> None:
    from archiver.extract.page import ArticlePage

    played = ArticlePage.parse("https://www.defense.gov/x/Article/2853121/", WAYBACK.read_bytes())
    assert played is not None
    assert played.played_back
    # a live article whose text names the markers and links to a capture: not a playback, so its
    # link to the Wayback Machine stays as it is
    capture = "https://web.archive.org/web/20211125211021/https://www.defense.gov/x/"
    page = DGOV2.read_bytes().replace(
        b'<div class="body">',
        b'<div class="body"><p>The archive injects wombat.js and sets wbinfo.url = "x"; see '
        b'<a href="' + capture.encode() + b'">the capture</a>.</p>', 1)
    assert page != DGOV2.read_bytes()
    live = ArticlePage.parse("https://www.defense.gov/News/Releases/Release/Article/1/", page)
    assert live is not None
    assert not live.played_back
    assert [a.get("href") for a in live.container.iter("a") if "web.archive.org" in (a.get("href") or "")] \
        == [capture]


def urlsplit_host(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0]


def test_playback_images_and_links_are_unwrapped() -> None:
    page = WAYBACK.read_bytes().replace(
        b'<div class="body">',
        b'<div class="body"><div class="media-inline"><img src="https://web.archive.org/web/'
        b'20211125211021im_/https://media.defense.gov/2021/Nov/23/2002898600/670/394/0/211123-D-XX000-001.JPG"'
        b' alt="a"></div>', 1)
    playback = "https://web.archive.org/web/20211125211021/https://www.defense.gov/x/Article/2853121/"
    record = extract_record(playback, page)
    assert record is not None
    assert [i["src"] for i in record["images"]] == [
        "https://media.defense.gov/2021/Nov/23/2002898600/-1/-1/0/211123-D-XX000-001.JPG"]
    assert record["url"] == "https://www.defense.gov/x/Article/2853121/"


def parser() -> ArgumentParser:
    top = ArgumentParser(prog="archiver")
    add_extract_command(top.add_subparsers(dest="command", parser_class=ArgumentParser))
    return top


def run_extract(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    args = parser().parse_args(["extract", *argv])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_extract_command_recovers_a_playback_pages_original_url(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_extract(capsys, str(WAYBACK))
    assert (code, err) == (0, "")
    record = json.loads(out)
    assert record["url"].startswith("https://www.defense.gov/News/Releases/Release/Article/2853121/")
    expected = json.loads((WAYBACK.parent / "output.json").read_text("utf-8"))
    assert record["canonical_url"] == expected["canonical_url"]


def test_extract_command_finds_a_defenselink_pages_own_url(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_extract(capsys, str(DEFENSELINK))
    assert code == 0
    record = json.loads(out)
    assert record["url"] == "http://www.defenselink.mil/Releases/Release.aspx?ReleaseID=10242"
    assert record["article_id"] == "release:10242"


# -- not news --------------------------------------------------------------------------------------


def test_a_biography_is_refused_with_its_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_extract(capsys, str(BIO))
    assert (code, out) == (2, "")
    assert "not a news item: a biography page" in err
    assert "biography" in refusal_reason("http://www.defenselink.mil/bios/cambone_bio.html", BIO.read_bytes())


def test_a_defenselink_page_of_no_news_kind_is_refused() -> None:
    page = (b'<html><head><title>DefenseLink: Site Map</title></head><body><table><tr>'
            b'<td id="tdArticle"><span id="lblArticleContent"><div class="text12b">Site Map</div>'
            b'<div class="text12"><p>About DoD</p><p>Top Leaders and the offices of the department, listed by'
            b' name.</p></div></span></td></tr></table></body></html>')
    url = "http://www.defenselink.mil/sitemap/page.aspx?x=1"
    assert extract_record(url, page) is None
    assert refusal_reason(url, page).startswith("not a news item")


# -- variants of the ASP.NET era the real pages do not show -----------------------------------------

#: a DefenseLink transcript: letterhead, "On the Web:", contacts, the presenter and date, the headline,
#: speaker-labelled paragraphs
DEFENSELINK_TRANSCRIPT = DEFENSELINK.read_text("utf-8").replace(
    "DefenseLink News Release: Stephen A. Cambone to Resign",
    "DefenseLink News Transcript: DoD News Briefing with Secretary Rumsfeld").replace(
    "News Release</span>", "News Transcript</span>").replace(
    "Releases/Release.aspx?ReleaseID=10242", "Transcripts/Transcript.aspx?TranscriptID=3831").replace(
    "<strong>IMMEDIATE RELEASE</strong>",
    "<strong>Presenter: Secretary of Defense Donald H. Rumsfeld</strong>").replace(
    "<strong>No. 1221-06<br>December 01, 2006</strong>",
    "<strong>December 05, 2006 1:30 PM EDT</strong>").replace(
    '<div align="center" class="text12b">Stephen A. Cambone to Resign</div>',
    '<div align="center" class="text12b">DoD News Briefing with Secretary Rumsfeld</div>').replace(
    "The Department of Defense announced today",
    "SEC. RUMSFELD: Good afternoon. The department announced today")


def test_an_aspnet_page_of_unknown_ids_is_read_by_meaning() -> None:
    record = record_of(REAL / "news-story" / "reconstructed-defensegov-aspnet-67543" / "body.html")
    assert (record["article_id"], record["markup_era"], record["published"]) == (
        "newsarticle:67543", "aspnet", "2012-03-05")
    assert record["body"].split("\n\n") == [
        "FORT BLISS, Texas, March 5, 2012 – Defense Secretary Leon E. Panetta thanked soldiers here today.",
        "“You are the best,” he said.", "He also met with families at the post."]


def test_a_defenselink_transcript() -> None:
    url = "http://www.defenselink.mil/Transcripts/Transcript.aspx?TranscriptID=3831"
    record = extract_record(url, DEFENSELINK_TRANSCRIPT.encode())
    assert record is not None
    assert (record["article_id"], record["content_type"], record["title"], record["published"]) == (
        "transcript:3831", "transcript", "DoD News Briefing with Secretary Rumsfeld", "2006-12-05")
    assert record["authors"] == []
    assert record["body"].startswith("SEC. RUMSFELD: Good afternoon. The department announced today")
    assert "Presenter" not in record["body"]


#: a DNN "DefenseGOV" news story (the skin's news form is reported, not saved: built from the saved
#: contract page's markup, with a photo block of the skin's stylesheet and the byline in ``p.info``)
DNN_STORY = DNN.read_text("utf-8").replace(
    '<div class="adetail contract">', '<div class="adetail news">').replace(
    '<h1 class="title">Contracts </h1>', '<h1 class="title">Carter Thanks Troops in Qatar</h1>').replace(
    '<p class="info">Press Operations</p>',
    '<p class="info">By Jim Garamone DoD News, Defense Media Activity</p>')


def test_a_dnn_news_story() -> None:
    start = DNN_STORY.index('<span class="text">')
    end = DNN_STORY.index("</span>", DNN_STORY.index("*Small business"))
    page = DNN_STORY[:start] + (
        '<span class="text"><p>DOHA, Qatar, Dec. 10, 2015 — Defense Secretary Ash Carter thanked troops.'
        '</p><div class="media-inline"><img src="https://media.defense.gov/2015/Dec/10/2001364747/670/394/0/'
        '151210-D-DT527-123.JPG" alt="Carter speaks"><div class="caption">Carter speaks to troops.</div>'
        '</div><p>He met the emir.</p>') + DNN_STORY[end:]
    page = page.replace("Contracts for July 31, 2014", "Carter Thanks Troops in Qatar").replace(
        "July 31, 2014", "Dec. 10, 2015")
    url = "https://www.defense.gov/News/Article/Article/633712/carter-thanks-troops-in-qatar/"
    record = extract_record(url, page.encode())
    assert record is not None
    assert (record["markup_era"], record["content_type"], record["title"], record["published"]) == (
        "dnn", "news-story", "Carter Thanks Troops in Qatar", "2015-12-10")
    assert record["authors"] == ["Jim Garamone"]
    assert record["body"] == ("DOHA, Qatar, Dec. 10, 2015 — Defense Secretary Ash Carter thanked troops.\n\n"
                              "He met the emir.")
    assert [(i["caption"], i["virin"]) for i in record["images"]] == [("Carter speaks to troops.",
                                                                       "151210-D-DT527-123")]
    assert record["historical"] is True


def test_a_dgov2_page_without_an_article_is_not_read_as_a_legacy_page() -> None:
    page = (b"<html><head><title>DoD Announces Events &gt; U.S. Department of Defense &gt; News</title>"
            b"</head><body><form><input name='__VIEWSTATE' value='x'></form><div class='listing'><p>Many "
            b"words about the week's events at the Pentagon, the briefings and the travel of the secretary."
            b"</p></div></body></html>")
    assert extract_record("https://www.defense.gov/News/Releases/Release/Article/4000002/", page) is None


STATIC = REAL / "release" / "reconstructed-defenselink-static-1998" / "body.html"
STATIC_URL = "http://www.defenselink.mil/news/Jun1998/b06011998_bt270-98.html"


def test_static_headline_other_than_the_title_is_not_the_letterhead_heading() -> None:
    """The ``<TITLE>`` words differ from the ``<H3>`` headline's and the letterhead is a heading too:
    the headline is the first heading that is no letterhead line, the date is above it."""
    body = STATIC.read_bytes().replace(
        b"DefenseLINK News: Secretary Cohen Announces Base Realignment Report",
        b"DefenseLINK News: Cohen Sends Base Report to Congress").replace(
        b"<CENTER><B>OFFICE OF ASSISTANT SECRETARY OF DEFENSE (PUBLIC AFFAIRS)</B></CENTER>",
        b'<H3 ALIGN="CENTER">OFFICE OF ASSISTANT SECRETARY OF DEFENSE (PUBLIC AFFAIRS)</H3>')
    record = extract_record(STATIC_URL, body, {"Content-Type": "text/html"})
    assert record is not None
    assert record["title"] == "SECRETARY COHEN ANNOUNCES BASE REALIGNMENT REPORT"
    assert (record["published"], record["content_type"]) == ("1998-06-01", "release")
    assert record["body"].startswith("Secretary of Defense William S. Cohen today")


def test_static_line_of_links_is_not_body_text() -> None:
    """Without "-END-", the section links at the foot ("[ DefenseLINK News | ... ]") are still
    navigation; a paragraph that has links in its text stays."""
    body = STATIC.read_bytes().replace(b"<P><CENTER>-END-</CENTER>\n", b"").replace(
        b'<A HREF="/news/releases.html">News Releases</A>',
        b'<A HREF="/news/releases.html">News Releases</A> | <A HREF="/">DefenseLINK Home</A> ]').replace(
        b"<P>The report is available", b'<P>See <A HREF="/a">one</A>, <A HREF="/b">two</A> and '
        b'<A HREF="/c">three</A>. The report is available')
    record = extract_record(STATIC_URL, body, {"Content-Type": "text/html"})
    assert record is not None
    assert "DefenseLINK" not in record["body"]
    assert record["body"].endswith("See one, two and three. The report is available on the Internet at "
                                   "http://www.defenselink.mil/pubs/ .")
