"""Selectors as data: where each field lives, per page region and markup era, as fallback ladders.

A ladder is tried top to bottom; the first step that yields a usable value wins. Every field's
ladder is the era's own steps (the markup the era is known to use) followed by the ``generic``
steps (meta / JSON-LD / microdata, then visible DOM, then the URL), so an unknown variant of the
page still extracts. The era is told from the markup (:data:`ERA_MARKERS`), never from the URL.

Class names are the real site's (``../shared/fixtures/real/``: the release and contracts pages and
the 2020 stylesheet, which names ``.media-inline``, ``.media-inline-popup``, ``.gallery``,
``.related .item``, ``.tags a`` and ``.adetail.news .header .disclaimer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Step:
    """One rung of a ladder: ``query`` run on ``source``, value from ``attr`` (``""`` = text).

    ``source``: ``head`` (the document's ``<head>``: meta, link, title), ``page`` (the whole
    document), ``around`` (the container's parent), ``container`` (the article element), ``header``
    (its header region), ``body`` (its body region), ``jsonld`` (``query`` is a key of the
    page's JSON-LD Article object), ``script`` (``query`` is a JavaScript variable name).
    """

    source: str
    query: str
    attr: str = ""


Ladder = tuple[Step, ...]

#: what the article container is (a page without one is not an article page)
CONTAINER: tuple[str, ...] = (
    "div.adetail",
    "[itemtype*='schema.org/NewsArticle']",
    "[itemtype*='schema.org/Article']",
    "[itemtype*='schema.org/BlogPosting']",
    "[itemtype*='schema.org/Report']",
)
#: the article container of the DefenseLink / ASP.NET pages (about 1997-2016), tried when no
#: ``CONTAINER`` step matches: the ASP.NET label the item's HTML is written into
#: (``<span id="lblArticleContent">``, ``ctl00_..._lblArticleContent``) and the table cell around it
#: (``<td id="tdArticle">``); a page without them is read by meaning (:mod:`archiver.extract.legacy`)
ASPNET_CONTAINER: tuple[str, ...] = (
    "[id$=lblArticleContent]", "[id$=ArticleContent]", "[id$=pnlArticle]", "[id$=tdArticle]",
)
#: ids of the DNN platform's own modules (``dnn_ctr1681_HtmlModule_lblContent``): never a legacy container
DNN_ID_PREFIX = "dnn_"
#: a container inside one of these is not the article (listing cards, related boxes, subscribe box);
#: simple selectors only: ``.class``, ``tag`` or ``#id``
NOT_CONTAINER_INSIDE: tuple[str, ...] = (".alist", ".related", ".subscribe", "footer", "#footer")

#: markup markers of each era, tested on the container (dnn 2015-2019; legacy and modern are the two
#: DGOV2 layouts, 2019-)
ERA_MARKERS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType({
    # the DNN "DefenseGOV" skin (about 2015-2019): h1.title, p.info, span.date, span.text
    "dnn": (".adetail > h1.title", ".adetail > span.text", ".adetail > p.info"),
    "legacy": ("div.adetail.news", "div.adetail.newsroom", ".adetail > div.header"),
    "modern": ("div.adetail.aframe", "div.adetail.abanner", ".adetail > header.content-wrap"),
})

#: regions of the container per era; ``generic`` is the fallback for any era
REGIONS: MappingProxyType[str, MappingProxyType[str, tuple[str, ...]]] = MappingProxyType({
    "dnn": MappingProxyType({
        "body": ("span.text", "div.text", "[itemprop=articleBody]", ".body"),
    }),
    "legacy": MappingProxyType({
        "header": ("div.header",),
        "body": (".content .inside .body", "[itemprop=articleBody]", ".body"),
    }),
    "modern": MappingProxyType({
        "header": ("header.content-wrap", "header"),
        "body": (".content .inside .body", ".inside.ntext .body", ".body"),
    }),
    "generic": MappingProxyType({
        "header": ("header", ".header"),
        "body": ("[itemprop=articleBody]", ".body", ".article-body", ".content .inside", ".content"),
    }),
})

_META_TITLE: Ladder = (
    Step("head", "meta[property='og:title']", "content"),
    Step("head", "meta[name='twitter:title']", "content"),
    Step("jsonld", "headline"),
    Step("head", "title"),
)
_META_DATE: Ladder = (
    Step("head", "meta[property='article:published_time']", "content"),
    Step("head", "meta[itemprop=datePublished]", "content"),
    Step("container", "[itemprop=datePublished]", "content"),
    Step("container", "[itemprop=datePublished]", "datetime"),
    Step("head", "meta[name='DC.date.issued']", "content"),
    Step("jsonld", "datePublished"),
)

#: field ladders per era (the era's own steps come first, then ``generic``)
FIELDS: MappingProxyType[str, MappingProxyType[str, Ladder]] = MappingProxyType({
    "dnn": MappingProxyType({
        "title": (Step("container", "h1.title"),),
        "published": (*_META_DATE, Step("container", "span.date"), Step("container", ".date")),
        # "By Jim Garamone DoD News, Defense Media Activity"; "Press Operations" on releases
        "byline": (Step("container", "p.info"), Step("container", ".byline")),
    }),
    "aspnet": MappingProxyType({
        "published": (
            Step("head", "meta[name^=last]", "content"),  # "last modified"
            Step("head", "meta[name=PUB_DATE]", "content"),
            Step("head", "meta[name='DC.date.issued']", "content"),
            Step("head", "meta[name=date]", "content"),
        ),
    }),
    "legacy": MappingProxyType({
        "title": (Step("container", "[itemprop=headline]"), Step("header", "h1.maintitle")),
        "published": (*_META_DATE, Step("header", ".dateline .date"), Step("header", ".date")),
        "byline": (Step("header", ".byline"), Step("header", "[itemprop=author]")),
        "section_label": (Step("header", ".category"),),
    }),
    "modern": MappingProxyType({
        "title": (Step("header", "h1.maintitle"),),
        "published": (*_META_DATE, Step("header", ".date-line .date"), Step("header", ".date")),
        "byline": (Step("header", "[itemprop=author]"), Step("header", ".author")),
        "section_label": (Step("header", ".cont-type"),),
    }),
    "generic": MappingProxyType({
        "title": (
            Step("container", "[itemprop=headline]"),
            Step("container", "h1.maintitle"),
            Step("container", ".maintitle"),
            Step("container", "h1"),
            *_META_TITLE,
        ),
        "published": (
            *_META_DATE,
            Step("header", "time[datetime]", "datetime"),
            Step("header", "time"),
            Step("header", ".date"),
            Step("container", ".dateline"),
            Step("container", ".date-line"),
            Step("container", "time[datetime]", "datetime"),
            Step("container", ".date"),
        ),
        "byline": (
            Step("container", ".byline"),
            Step("container", "[itemprop=author]"),
            Step("container", ".author"),
            Step("jsonld", "author"),
        ),
        "section_label": (
            Step("container", ".cont-type"),
            Step("container", ".category"),
            Step("head", "meta[property='article:section']", "content"),
            Step("jsonld", "articleSection"),
        ),
        "section_link": (
            Step("container", ".cont-type a", "href"),
            Step("container", ".category a", "href"),
        ),
        "canonical": (
            Step("head", "link[rel=canonical]", "href"),
            Step("head", "meta[property='og:url']", "content"),
        ),
        "article_id": (
            Step("head", "link[rel=canonical]", "href"),
            Step("head", "meta[property='og:url']", "content"),
            Step("script", "articleId"),
            Step("container", "[data-article-id]", "data-article-id"),
        ),
        "tags": (
            Step("container", ".tags a"),
            Step("container", "a[rel=tag]"),
            Step("head", "meta[property='article:tag']", "content"),
            Step("jsonld", "keywords"),
        ),
        "related": (
            Step("container", ".related .item a.article-link"),
            Step("container", ".related .item a"),
            Step("container", ".related a"),
            Step("around", ".related .item a"),
        ),
    }),
})

#: the historical-collection notice: legacy ``.header .disclaimer``, modern ``.alert-warning``
NOTICE: tuple[str, ...] = (".disclaimer", ".alert-warning", ".alert")

#: headings that name a section, not the item ("Contracts" over "Contracts for July 31, 2014"): the
#: title ladder goes on to ``og:title`` / ``<title>`` past them
GENERIC_TITLES: frozenset[str] = frozenset({
    "contracts", "contract", "contract view", "releases", "release", "news release", "news releases",
    "transcripts", "transcript", "news transcript", "speeches", "speech", "advisories", "advisory",
    "news advisory", "news", "news article", "article", "news stories", "news story", "feature stories",
    "u.s. department of defense", "u.s. department of war",
})

#: section label words → content type (the visible label: "News Story", "Release", "Contracts"...)
LABEL_TYPES: tuple[tuple[str, str], ...] = (
    ("transcript", "transcript"),
    ("speech", "speech"),
    ("remarks", "speech"),
    ("contract", "contract"),
    ("advisor", "advisory"),
    ("release", "release"),
    ("statement", "release"),
    ("readout", "release"),
    ("feature", "feature"),
    ("news stor", "news-story"),
    ("story", "news-story"),
    ("article", "news-story"),
)
#: DNN ArticleCS content type numbers (``content-type-N``; RSS ``ContentType=``). 1, 2, 9 and 400
#: are the site's own; 800 (feature), 3 (speech) and 10 (advisory) are the replica's assumptions.
CODE_TYPES: MappingProxyType[int, str] = MappingProxyType({
    1: "news-story", 2: "transcript", 3: "speech", 9: "release", 10: "advisory", 400: "contract",
    800: "feature",
})
#: section paths (``/News/Releases/``) → content type, for links and, last, the URL
PATH_TYPES: tuple[tuple[str, str], ...] = (
    ("/news-stories/", "news-story"),
    ("/newsarticle.aspx", "news-story"),
    ("/releases/", "release"),
    ("/transcripts/", "transcript"),
    ("/transcript.aspx", "transcript"),
    ("/speeches/", "speech"),
    ("/contracts/", "contract"),
    ("/feature-stories/", "feature"),
    ("/advisories/", "advisory"),
)

# -- media ------------------------------------------------------------------------------------------

#: photo elements in page order: inline photos, gallery slides, HTML5 figures
PHOTOS: tuple[str, ...] = (".media-inline", ".gallery .item", "figure")
#: not photos: carousel clones, video players, popups (read through their photo)
NOT_PHOTOS: tuple[str, ...] = (".slick-cloned", ".media-inline-video", ".video-control",
                               ".media-inline-popup")
POPUP = ".media-inline-popup"
POPUP_SRC: Ladder = (
    Step("popup", "a.download-link", "href"),
    Step("popup", "a[download]", "href"),
    Step("popup", "img", "src"),
)
PHOTO_TITLE: Ladder = (Step("popup", ".title"), Step("inline", "img", "title"))
PHOTO_CAPTION: Ladder = (
    Step("popup", ".caption"),
    Step("inline", ".minfo .caption"),
    Step("inline", ".caption"),
    Step("inline", "figcaption"),
    Step("inline", ".sr-only"),
)
PHOTO_CREDIT: Ladder = (
    Step("popup", ".photographer"),
    Step("popup", ".credit"),
    Step("inline", ".credit"),
    Step("inline", ".photographer"),
)
PHOTO_VIRIN: Ladder = (Step("popup", ".virin"), Step("inline", ".virin"))
PHOTO_ALT: Ladder = (Step("inline", "img", "alt"), Step("popup", "img", "alt"))
IMG_SRC_ATTRS: tuple[str, ...] = ("data-src", "data-lazy-src", "data-original", "src")

#: video players in page order
VIDEOS: tuple[str, ...] = (".media-inline-video", ".video-control", "video", "iframe")
VIDEO_SRC: Ladder = (
    Step("inline", "source", "src"),
    Step("inline", "video", "src"),
    Step("inline", "iframe", "src"),
    Step("inline", "[data-src]", "data-src"),
)
VIDEO_TITLE: Ladder = (Step("inline", ".mtitle"), Step("inline", ".title"),
                       Step("inline", "video", "title"), Step("inline", "iframe", "title"))
VIDEO_DURATION: Ladder = (Step("inline", ".duration"),)
#: iframes that are video players (not maps, forms or ads)
VIDEO_IFRAME_HINTS: tuple[str, ...] = ("dvidshub", "youtube", "vimeo", "video", "player")

# -- roles of elements met while walking the body ----------------------------------------------------

#: class token → role of the element's text (the Block kind, or a media role)
ROLE_CLASSES: MappingProxyType[str, str] = MappingProxyType({
    # media: photos, popups, galleries, players — read by the media walker
    "media-inline": "media", "media-inline-popup": "media", "media-inline-video": "media",
    "gallery": "media", "dgov2slideshow-gallery": "media", "slick-slider": "media",
    "video-control": "media", "mejs__container": "media",
    # the historical-collection notice
    "disclaimer": "notice", "alert": "notice", "alert-warning": "notice",
    # chrome: share/subscribe boxes, screen-reader-only text, header parts, tags, related
    "social-top": "chrome", "social-bottom": "chrome", "social-block": "chrome",
    "social-inner": "chrome", "social-link": "chrome", "a2a_kit": "chrome", "addthis_toolbox": "chrome",
    "share": "chrome", "sharing": "chrome", "subscribe": "chrome", "print": "chrome",
    "pagination": "chrome", "breadcrumb": "chrome", "sr-only": "chrome", "visually-hidden": "chrome",
    "tags": "chrome", "related": "chrome", "byline": "chrome", "author": "chrome",
    "date": "chrome", "dateline": "chrome", "date-line": "chrome", "presenter": "chrome",
    "presenterinfoType": "chrome", "category": "chrome", "cont-type": "chrome",
    "maintitle": "chrome", "article-navbtn": "chrome",
})
#: itemprop → role (microdata of the header parts, wherever they are)
ROLE_ITEMPROPS: MappingProxyType[str, str] = MappingProxyType({
    "author": "chrome", "datePublished": "chrome", "headline": "chrome",
})
#: class token inside a media element → Block kind of its text
MEDIA_TEXT_CLASSES: MappingProxyType[str, str] = MappingProxyType({
    "caption": "caption", "sr-only": "caption", "photographer": "credit", "credit": "credit",
    "virin": "virin", "title": "media-title", "mtitle": "media-title", "duration": "player",
    "action": "chrome", "download-link": "chrome", "detail-link": "chrome", "social": "chrome",
})
