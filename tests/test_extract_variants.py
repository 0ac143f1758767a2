"""Markup variants the replica does not serve: the ladders' fallbacks and the semantic rules.

Each page is small and synthetic, built from the real site's vocabulary (class names of the 2020
stylesheet, schema.org microdata, JSON-LD) arranged the ways other eras and CMS versions do.
"""

from __future__ import annotations

from typing import Any

import pytest

from archiver.extract import extract_article
from archiver.extract.page import ArticlePage
from pipelines.chain import extract_record

URL = "https://www.defense.gov/News/News-Stories/Article/Article/2000123/some-story/"
CAPTION = ("Army Gen. Mark A. Milley, chairman of the Joint Chiefs of Staff, speaks with troops at "
           "Fort Bragg, North Carolina, June 3, 2019. DoD photo by Army Sgt. James K. McCann")


def page(container: str, head: str = "", before: str = "") -> bytes:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title>{head}</head><body>'
            f'<div class="header_banner_container">An official website of the United States Government '
            f"<u>Here's how you know</u></div>{before}{container}"
            '<div class="subscribe"><article><h3>Subscribe to War.gov Products</h3></article></div>'
            "</body></html>").encode()


def record(container: str, head: str = "", before: str = "", url: str = URL) -> dict[str, Any]:
    found = extract_record(url, page(container, head, before))
    assert found is not None
    return found


def test_generic_markup_with_json_ld_time_and_figure() -> None:
    head = ('<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
            '{"@type": "Organization", "name": "DoD"}, '
            '{"@type": "NewsArticle", "headline": "JSON-LD Headline",'
            ' "datePublished": "2019-06-03T10:00:00-04:00",'
            ' "author": {"@type": "Person", "name": "Jane Doe"},'
            ' "keywords": "Army, Readiness"}]}</script>')
    container = f"""
    <article itemscope itemtype="https://schema.org/Article">
      <div class="article-body" itemprop="articleBody">
        Loose first paragraph text.<br><br>Second paragraph after a double break.
        <h2>A Heading</h2>
        <figure><img src="/2019/Jun/03/2002140001/670/394/0/190603-A-AB123-0001.JPG" alt="Milley speaks.">
          <figcaption>{CAPTION}</figcaption></figure>
        <p>Third paragraph.</p>
        <iframe src="https://www.dvidshub.net/video/embed/700001" title="Milley Talks Readiness"></iframe>
      </div>
    </article>"""
    got = record(container, head)
    assert got["title"] == "JSON-LD Headline"
    assert got["published"] == "2019-06-03T10:00:00-04:00"
    assert got["authors"] == ["Jane Doe"]
    assert got["tags"] == ["Army", "Readiness"]
    assert got["body"] == ("Loose first paragraph text.\n\nSecond paragraph after a double break.\n\n"
                           "## A Heading\n\nThird paragraph.")
    assert got["images"] == [{
        "src": "https://www.defense.gov/2019/Jun/03/2002140001/-1/-1/0/190603-A-AB123-0001.JPG",
        "title": "", "caption": CAPTION, "credit": "", "virin": "190603-A-AB123-0001",
        "alt": "Milley speaks."}]
    assert got["videos"] == [{"title": "Milley Talks Readiness", "duration": None,
                              "src": "https://www.dvidshub.net/video/embed/700001"}]


def test_popup_elsewhere_and_caption_repeated_as_a_paragraph() -> None:
    container = f"""
    <div class="adetail aframe content-type-1"><header class="content-wrap">
      <div class="cont-type"><span>News Story</span></div><h1 class="maintitle">Title</h1>
      <div class="date-line"><span class="date">June 3, 2019</span>
      <span class="author" itemprop="author">By Army Sgt. Amber I. Smith, DoD News, Defense Media
        Activity</span>
      </div></header>
      <div class="content"><div class="inside ntext"><div class="body">
        <p>First.</p>
        <div class="media-inline" data-id="77"><a class="linkoverlay" data-popup="#popup-77"></a>
          <img data-src="https://media.defense.gov/2019/Jun/03/2002140077/670/394/0/190603-D-XY999-0077.JPG"
               src="data:image/gif;base64,R0lGOD" alt="Alt text" title="Troop Visit">
          <div class="minfo"><div class="caption">{CAPTION}</div><div class="credit">Photo By: Sgt.
            McCann</div></div>
        </div>
        <p>{CAPTION}</p>
        <p>Troop Visit</p>
        <p>VIRIN: 190603-D-XY999-0077</p>
        <p>Second. (Follow Amber Smith on Twitter: @SmithDoD)</p>
        <p><strong>Troop Visit</strong></p>
        <p>Third.</p>
      </div></div></div>
    </div>
    <div class="media-inline-popup" id="popup-77" style="display:none">
      <div class="info"><div class="title">Troop Visit</div><div class="caption">{CAPTION}</div>
      <div class="photographer">Photo By: Army Sgt. James K. McCann</div>
      <div class="virin">VIRIN: 190603-D-XY999-0077</div>
      <a class="download-link" href="/2019/Jun/03/2002140077/-1/-1/0/190603-D-XY999-0077.JPG">Download</a>
      </div></div>"""
    got = record(container)
    assert got["authors"] == ["Army Sgt. Amber I. Smith"]
    assert got["images"] == [{
        "src": "https://www.defense.gov/2019/Jun/03/2002140077/-1/-1/0/190603-D-XY999-0077.JPG",
        "title": "Troop Visit", "caption": CAPTION, "credit": "Army Sgt. James K. McCann",
        "virin": "190603-D-XY999-0077", "alt": "Alt text"}]
    # the caption cluster goes; the same words as a subheading elsewhere stay
    assert got["body"] == "First.\n\nSecond.\n\n## Troop Visit\n\nThird."


def test_inline_photo_without_popup_uses_full_size_of_thumbnail() -> None:
    container = """
    <div class="adetail news content-type-1"><div class="header"><h1 class="maintitle">T</h1>
      <div class="dateline"><span class="date">Jan. 4, 2017</span></div></div>
      <div class="content"><div class="inside"><div class="body">
        <p>Text.</p>
        <div class="media-inline"><img
          src="//media.defense.gov/2017/Jan/04/2001690001/300/200/0/170104-N-ZZ000-0001.JPG"
          alt="A ship."><div class="minfo"><div class="caption">The ship sails, Jan. 4, 2017.</div>
          <div class="credit">Navy photo</div></div></div>
        <img src="/DesktopModules/SharedLibrary/pixel.gif" width="1" height="1" alt="">
        <img src="https://www.defense.gov/spacer.gif" alt="">
        <p><img src="https://media.defense.gov/2017/Jan/04/2001690002/640/480/0/170104-N-ZZ000-0002.JPG"
          alt="Inline">
          Paragraph with an inline picture.</p>
      </div></div></div></div>"""
    got = record(container)
    assert [i["src"] for i in got["images"]] == [
        "https://media.defense.gov/2017/Jan/04/2001690001/-1/-1/0/170104-N-ZZ000-0001.JPG",
        "https://media.defense.gov/2017/Jan/04/2001690002/-1/-1/0/170104-N-ZZ000-0002.JPG",
    ]
    assert got["images"][0]["credit"] == "Navy photo"
    assert got["images"][0]["virin"] == "170104-N-ZZ000-0001"
    assert got["body"] == "Text.\n\nParagraph with an inline picture."


def test_notice_printed_as_a_paragraph_and_newsroom_transcript() -> None:
    container = """
    <div class="adetail newsroom"><div class="header">
      <div class="presenterinfoType Transcript">Presenter: Pentagon Press Secretary Peter Cook</div>
      <h1 class="maintitle">Department of Defense Press Briefing</h1>
      <div class="dateline"><span class="date">Dec. 15, 2016</span></div></div>
      <div class="content"><div class="inside"><div class="body">
        <p>You have accessed part of a historical collection on defense.gov. Some of the information contained
           within may be outdated and links may not function.</p>
        <p><strong>MR. COOK:</strong> Good afternoon, everybody.</p>
        <p>Q: Thanks, Peter.</p>
        <p>&nbsp;</p>
      </div></div></div></div>"""
    got = record(container, url="https://www.defense.gov/News/Transcripts/Transcript/Article/1030001/")
    assert got["content_type"] == "transcript"
    assert got["historical"] is True
    assert got["authors"] == []
    assert got["body"] == "MR. COOK: Good afternoon, everybody.\n\nQ: Thanks, Peter."


def test_gallery_video_slide_and_clones() -> None:
    container = """
    <div class="adetail aframe content-type-800"><header class="content-wrap"><h1 class="maintitle">G</h1>
      <div class="date-line"><span class="date">May 3, 2021</span></div></header>
      <div class="content"><div class="inside"><div class="body"><p>Body.</p></div>
      <div class="gallery">
        <div class="item slick-cloned"><div class="image"><img
          src="/2021/May/03/1/825/780/0/210503-D-AA000-0002.JPG" alt="b"></div>
          <div class="caption">Second photo caption.</div></div>
        <div class="item"><div class="image"><img src="/2021/May/03/1/825/780/0/210503-D-AA000-0001.JPG"
          alt="a"></div>
          <div class="caption">First photo caption.</div></div>
        <div class="item"><div class="image video-control"><video><source
          src="https://cdn.example/v.mp4"></video>
          <span class="duration">01:05</span></div><div class="title">Gallery Video</div></div>
        <div class="item"><div class="image"><img src="/2021/May/03/1/825/780/0/210503-D-AA000-0002.JPG"
          alt="b"></div>
          <div class="caption">Second photo caption.</div></div>
        <div class="item slick-cloned"><div class="image"><img
          src="/2021/May/03/1/825/780/0/210503-D-AA000-0001.JPG" alt="a"></div>
          <div class="caption">First photo caption.</div></div>
      </div></div></div></div>"""
    got = record(container, url="https://www.defense.gov/News/Feature-Stories/Story/Article/2600001/g/")
    assert [i["caption"] for i in got["images"]] == ["First photo caption.", "Second photo caption."]
    assert got["videos"] == [{"title": "", "duration": 65, "src": "https://cdn.example/v.mp4"}]
    assert got["content_type"] == "feature"


@pytest.mark.parametrize(("container", "expected"), [
    ('<div class="adetail"><div class="category">Press Release</div><h1>t</h1></div>', "release"),
    ('<div class="adetail"><div class="cont-type">Media Advisory</div><h1>t</h1></div>', "advisory"),
    ('<div class="adetail content-type-400"><h1>t</h1></div>', "contract"),
    ('<div class="adetail"><div class="cont-type"><a href="/News/Speeches/">x</a></div><h1>t</h1></div>',
     "speech"),
    ('<div class="adetail"><h1>t</h1></div>', "news-story"),  # the URL, last
])
def test_content_type_ladder(container: str, expected: str) -> None:
    found = ArticlePage.parse(URL, page(container))
    assert found is not None
    assert found.content_type() == expected


def test_title_from_title_element_when_nothing_else() -> None:
    body = (b"<html><head><title>Real Headline &gt; U.S. Department of War &gt; Release | "
            b"U.S. Department of War"
            b"</title></head><body><div class='adetail'><div class='body'><p>x</p></div></div></body></html>")
    found = ArticlePage.parse(URL, body)
    assert found is not None
    assert found.title() == "Real Headline"
    assert found.content_type() == "release"


def test_legacy_url_id_and_canonical_link() -> None:
    head = '<link rel="canonical" href="/News/Article/Article/604001/ash-carter/">'
    found = extract_article("https://www.defense.gov/News/NewsArticle.aspx?ID=604001",
                            page('<div class="adetail"><h1>t</h1></div>', head))
    assert found is not None
    assert found.article_id == "604001"
    assert found.canonical_url == "https://www.defense.gov/News/Article/Article/604001/ash-carter/"


def test_article_id_from_query_when_no_canonical() -> None:
    found = extract_article("http://archive.defense.gov/news/newsarticle.aspx?id=128001",
                            page('<div class="adetail"><h1>t</h1></div>'))
    assert found is not None
    assert found.article_id == "newsarticle:128001"  # its own number space (issue 16)


def test_subscribe_box_article_is_not_an_article_container() -> None:
    listing = page('<div class="alist"><div class="item"><h3>Listing</h3></div></div>')
    assert extract_article(URL, listing) is None


def test_table_rows_and_lists_are_paragraphs() -> None:
    container = """<div class="adetail"><h1>t</h1><div class="body">
      <ul><li>One item</li><li>Two <em>item</em></li></ul>
      <table><tr><th>Name</th><th>Value</th></tr><tr><td>A</td><td>1</td></tr></table></div></div>"""
    found = extract_record(URL, page(container, '<meta property="article:published_time" '
                                                'content="2020-01-02">'))
    assert found is not None
    assert found["body"] == "One item\n\nTwo item\n\nName | Value\n\nA | 1"


NOTICE_TEXT = ("You have accessed part of a historical collection on defense.gov. Some of the information "
               "contained within may be outdated and links may not function.")
SIMPLE = ('<div class="adetail"><h1 class="maintitle">T</h1><span class="date">Dec. 15, 2016</span>'
          '<div class="body"><p>Body text.</p></div></div>')


@pytest.mark.parametrize("before", [
    f'<div id="top"><div class="wrap"><div class="alert alert-warning">{NOTICE_TEXT}</div></div></div>',
    f'<div class="banner"><p>{NOTICE_TEXT}</p></div>',
    f'<div class="alert alert-warning" role="alert">{NOTICE_TEXT}</div>',
])
def test_historical_notice_anywhere_on_the_page(before: str) -> None:
    got = record(SIMPLE, before=before)
    assert got["historical"] is True
    assert got["body"] == "Body text."


def test_an_alert_without_the_notice_is_not_historical() -> None:
    got = record(SIMPLE, before='<div class="alert alert-info">Site maintenance tonight.</div>')
    assert got["historical"] is False


def test_alert_box_in_the_body_is_content_but_a_disclaimer_is_not() -> None:
    container = ('<div class="adetail"><h1 class="maintitle">T</h1><span class="date">Dec. 15, 2016</span>'
                 '<div class="body"><p>Body text.</p>'
                 '<div class="alert alert-info">UPDATE: The briefing moved to 3 p.m.</div>'
                 '<div class="disclaimer">Links to outside sites do not imply endorsement.</div></div></div>')
    got = record(container)
    assert got["body"] == "Body text.\n\nUPDATE: The briefing moved to 3 p.m."
    assert got["historical"] is False


def test_screen_reader_text_inside_a_paragraph_does_not_split_it() -> None:
    container = ('<div class="adetail"><h1 class="maintitle">T</h1><span class="date">Dec. 15, 2016</span>'
                 '<div class="body"><p>See <a href="/x">the report<span class="sr-only"> '
                 '(opens in new window)</span></a> for details.</p></div></div>')
    assert record(container)["body"] == "See the report for details."


@pytest.mark.parametrize("tags", [("div", "div"), ("b", "i"), ("span", "p")])
def test_deep_nesting_neither_crashes_nor_loses_text(tags: tuple[str, str]) -> None:
    outer, inner = tags
    depth = 120  # lxml keeps up to 255 levels; the walk must not run out of stack on them
    nested = f"<{outer}><{inner}>" * depth + "deep" + f"</{inner}></{outer}>" * depth
    container = ('<div class="adetail"><h1 class="maintitle">T</h1><span class="date">Dec. 15, 2016</span>'
                 f'<div class="body"><p>First.</p>{nested}<p>Last.</p></div></div>')
    body = record(container)["body"]
    assert body.startswith("First.")
    assert "deep" in body
    assert body.endswith("Last.")
