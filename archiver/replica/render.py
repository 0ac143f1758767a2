"""HTML, RSS, sitemap and robots.txt rendering for the replica.

Every HTML page is the real ``release-3981590-rendered.html`` (head, gov banner, navigation,
subscribe box, footer, scripts) with its article container swapped for ours. Article containers
follow the real class names (``.adetail``, ``h1.maintitle``, ``.date-line .date``, ``.body p``,
``.media-inline``, ``.media-inline-popup``, ``.gallery``, ``.related .item``, ``.tags a``,
``.header .disclaimer``) in two markup eras: ``legacy`` (2016-2019, ``.adetail.news .header``)
and ``modern`` (2020+, ``.adetail.abanner.aframe`` with ``header.content-wrap``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from functools import cache
from html import escape
from importlib import resources

from archiver.replica.corpus import (
    CONTENT_TYPES,
    Article,
    ContentType,
    Head,
    Photo,
    Video,
    ap_date,
    media_base,
    slugify,
)

HISTORICAL_NOTICE = (
    "You have accessed part of a historical collection on defense.gov. Some of the information "
    "contained within may be outdated and links may not function. Please contact the "
    '<a href="https://www.defense.gov/Contact/Webmaster/">DOD Webmaster</a> with any questions.'
)


@dataclass(frozen=True)
class Skeleton:
    """The real page cut around its article container."""

    head: str  # from <!DOCTYPE to </head> (metadata swapped per page)
    before: str  # from <body> up to where the article container starts
    after: str  # from the end of the article container to </html>


@cache
def skeleton() -> Skeleton:
    page = resources.files("archiver.replica").joinpath("data", "skeleton-article.html").read_text(
        "utf-8")
    head_end = page.index("</head>") + len("</head>")
    start = page.index('<div class="adetail')
    end = page.index("<script type=\"text/javascript\">\n    $(window).load", start)
    return Skeleton(page[:head_end], page[head_end:start], page[end:])


_META_PATTERNS = {
    "title": re.compile(r"<title>.*?</title>", re.S),
    "description": re.compile(r'(<meta id="MetaDescription" name="description" content=")[^"]*'),
    "twitter:title": re.compile(r'(<meta name="twitter:title" content=")[^"]*'),
    "twitter:description": re.compile(r'(<meta name="twitter:description" content=")[^"]*'),
    "og:title": re.compile(r'(<meta property="og:title" content=")[^"]*'),
    "og:description": re.compile(r'(<meta property="og:description" content=")[^"]*'),
    "og:url": re.compile(r'(<meta property="og:url" content=")[^"]*'),
    "og:image": re.compile(r'(<meta property="og:image" content=")[^"]*'),
}


def _keep_prefix(value: str) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` replacement keeping group 1 (the attribute's start) and putting ``value``."""
    return lambda match: match.group(1) + value


def page(title: str, section_label: str, url: str, description: str, container: str, *,
         image: str = "", extra_head: str = "", article_id: int = 0, path: str = "/") -> str:
    """A whole HTML page: the real skeleton around ``container``."""
    sk = skeleton()
    head = _META_PATTERNS["title"].sub(
        lambda _m: f"<title>\n\t{escape(title)} &gt; U.S. Department of War &gt; "
                   f"{escape(section_label)} | U.S. Department of War\n</title>",
        sk.head, count=1)
    values = {
        "description": description, "twitter:title": title, "twitter:description": description,
        "og:title": title, "og:description": description, "og:url": url, "og:image": image,
    }
    for key, value in values.items():
        head = _META_PATTERNS[key].sub(_keep_prefix(escape(value)), head, count=1)
    if extra_head:
        head = head.replace("</head>", extra_head + "</head>", 1)
    before = re.sub(r'(<form method="post" action=")[^"]*', _keep_prefix(escape(path)),
                    sk.before, count=1)
    after = sk.after.replace("var articleId = 3981590;", f"var articleId = {article_id};", 1)
    return head + before + container + after


# -- article pages ---------------------------------------------------------------------------------


class ArticleRenderer:
    """Renders one article for a site base URL (``http://127.0.0.1:8080``)."""

    def __init__(self, article: Article, base_url: str) -> None:
        self.a = article
        self.h = article.head
        self.base = base_url.rstrip("/")
        self.media = media_base(base_url)
        self.legacy = self.h.era == "legacy"

    def url(self, head: Head | None = None) -> str:
        return self.base + (head or self.h).path

    def html(self) -> str:
        container = self._legacy() if self.legacy else self._modern()
        if self.a.historical and not self.legacy:
            container = f'<div class="alert alert-warning" role="alert">{HISTORICAL_NOTICE}</div>\n' + container
        extra = f'<link rel="canonical" href="{escape(self.url())}">\n' if self.legacy else ""
        if self.legacy:
            extra += f'<meta itemprop="datePublished" content="{self.h.published:%Y-%m-%d}">\n'
        image = self.media + self.a.photos[0].path(1280, 1280) if self.a.photos else ""
        return page(self.h.title, self.h.ctype.label, self.url(), self.h.summary, container,
                    image=image, extra_head=extra, article_id=self.h.article_id, path=self.h.path)

    # ---- containers

    def _legacy(self) -> str:
        h = self.h
        parts = [
            f'<div class="adetail news content-type-{h.ctype.code}" itemscope="" '
            f'itemtype="http://schema.org/NewsArticle">',
            '<div class="header">',
            f'<div class="category"><a class="acategory-skew" href="{escape(h.ctype.section)}">'
            f'<span>{escape(h.ctype.label)}</span></a></div>',
            f'<h1 class="maintitle" itemprop="headline">{escape(h.title)}</h1>',
        ]
        if self.a.historical:
            parts.append(f'<div class="disclaimer">{HISTORICAL_NOTICE}</div>')
        parts.append('<div class="dateline">')
        parts.append(f'<span class="date">{ap_date(h.published.date())}</span>')
        if self.a.authors:
            names = " and ".join(escape(n) for n in self.a.authors)
            parts.append(f'<span class="pipe">|</span> <span class="byline">By {names}<br>'
                         f'{escape(self.a.byline_org)}</span>')
        parts.append("</div>")
        if self.a.presenter:
            parts.append(f'<div class="presenter">Presenter: {escape(self.a.presenter)}</div>')
        parts.append(self._share("social-top"))
        parts.append("</div>")
        parts.append('<div class="content"><div class="inside">')
        parts.append(f'<div class="body" itemprop="articleBody">\n{self._body()}\n</div>')
        parts.append(self._gallery())
        parts.append(self._tags())
        parts.append(self._share("social-bottom"))
        parts.append("</div></div>")
        parts.append(self._related())
        parts.append("</div>")
        return "\n".join(p for p in parts if p)

    def _modern(self) -> str:
        h = self.h
        parts = [
            f'<div class="adetail abanner no-abanner-mobile aframe content-type-{h.ctype.code}" '
            'itemscope="" itemtype="http://schema.org/NewsArticle">',
            '<header class="content-wrap">',
            f'<div class="cont-type"><a class="content-type-text" href="{escape(h.ctype.section)}">'
            f'<span>{escape(h.ctype.label)}</span></a></div>',
        ]
        if h.ctype.name == "release":
            parts.append('<div class="presenterinfoType News Release immediate-flag">\n'
                         '            Immediate Release\n        </div>')
        if self.a.presenter:
            parts.append(f'<div class="presenter">{escape(self.a.presenter)}</div>')
        parts.append(f'<h1 class="maintitle">\n            \n            {escape(h.title)}\n        </h1>')
        parts.append('<div class="date-line ">')
        if h.ctype.name != "contract":  # the real contracts page prints its date in the title only
            parts.append(f'<span class="date">\n                {ap_date(h.published.date())}\n'
                         '            </span>')
        if self.a.authors:
            names = " and ".join(escape(n) for n in self.a.authors)
            parts.append(f'<span class="author" itemprop="author">By {names}, '
                         f'{escape(self.a.byline_org)}</span>')
        parts.append(self._share("social-block"))
        parts.append("</div>")
        parts.append("</header>")
        parts.append('<div class="content content-wrap">\n<div class="inside ntext">')
        parts.append(f'<div class="body">\n{self._body()}\n</div>')
        parts.append(self._gallery())
        parts.append(self._tags())
        parts.append("</div>")
        parts.append(self._related())
        parts.append("</div>\n</div>")
        return "\n".join(p for p in parts if p)

    # ---- body

    def _body(self) -> str:
        out = []
        for block in self.a.blocks:
            if block.kind == "p":
                out.append(f"<p>{escape(block.text)}</p>")
            elif block.kind == "h":
                out.append(self._subheading(block.text))
            elif block.kind == "photo":
                out.append(self._photo(self.a.photos[block.index]))
            elif block.kind == "video":
                out.append(self._video(self.a.videos[block.index]))
        if self.a.twitter:
            name, _, handle = self.a.twitter.rpartition("@")
            link = f'<a href="https://twitter.com/{handle.rstrip(")")}">@{escape(handle)}</a>'
            line = f"{escape(name)}{link}"
            out.append(f"<p>{line}</p>" if self.legacy else f"<p><em>{line}</em></p>")
        if not self.legacy and self.h.article_id % 4 == 0:
            # analytics pixel, as DVIDS embeds leave them: not a photo
            out.append('<img src="/DesktopModules/SharedLibrary/pixel.gif" width="1" height="1" '
                       'alt="" style="display:none">')
        return "\n\n".join(out)

    def _subheading(self, heading: str) -> str:
        if self.h.ctype.name == "contract":
            return f'<p style="text-align: center;"><strong>{escape(heading)}</strong></p>'
        if self.legacy:
            return f"<p><strong>{escape(heading)}</strong></p>"
        return f"<h3>{escape(heading)}</h3>"

    def _popup(self, photo: Photo, extra_class: str = "") -> str:
        full = self.media + photo.path()
        cap = escape(photo.caption)
        return (
            f'<div class="media-inline-popup{extra_class}" id="popup-{photo.media_id}" '
            'style="display:none">\n'
            f'<div class="media-inline-img-container"><img src="{escape(full)}" alt="{escape(photo.alt)}">'
            f'<div class="sr-only">{cap}</div></div>\n'
            '<div class="info">\n'
            f'<div class="title">{escape(photo.title)}</div>\n'
            f'<div class="caption">{cap}</div>\n'
            '<div class="bottom">\n'
            f'<div class="photographer"><span class="icon"></span>Photo By: {escape(photo.credit)}</div>\n'
            f'<div class="virin"><span class="icon"></span>VIRIN: {escape(photo.virin)}</div>\n'
            f'<div class="action"><a class="download-link action-item" href="{escape(full)}" download>'
            '<span class="icon"></span>Download</a> '
            f'<a class="detail-link" href="/Multimedia/Photos/igphoto/{photo.media_id}/">Details</a>'
            '</div>\n</div>\n</div>\n</div>'
        )

    def _photo(self, photo: Photo) -> str:
        thumb = self.media + photo.path(670, 394)
        cap = escape(photo.caption)
        lazy = ' loading="lazy"' if not self.legacy else ""
        return (
            f'<div class="media-inline media-inline-medium media-inline-right" data-id="{photo.media_id}">\n'
            '<div class="image-wrapper">\n'
            f'<a class="linkoverlay" href="javascript:void(0)" data-popup="#popup-{photo.media_id}">'
            f'<span class="sr-only">{cap}</span></a>\n'
            f'<img class="img-responsive" src="{escape(thumb)}" alt="{escape(photo.alt)}" '
            f'title="{escape(photo.title)}"{lazy}>\n'
            '<div class="overlay"></div>\n</div>\n'
            f'<div class="minfo"><div class="caption">{cap}</div></div>\n'
            f"{self._popup(photo)}\n</div>"
        )

    def _video(self, video: Video) -> str:
        poster = self.media + "/DesktopModules/SharedLibrary/video-poster.jpg"
        return (
            '<div class="media-inline media-inline-video media-inline-xlarge">\n'
            '<div class="image-wrapper video">\n'
            f'<video class="mejs__player" preload="none" poster="{escape(poster)}" width="100%" '
            f'height="100%"><source src="{escape(video.src)}" type="video/mp4"></video>\n'
            f'<span class="duration">{video.clock}</span>\n'
            '<a class="a-video-button defaultVideoOverlay" href="javascript:void(0)">'
            '<span class="sr-only">Play</span></a>\n</div>\n'
            f'<div class="minfo"><div class="mtitle">VIDEO | {video.clock} | {escape(video.title)}'
            "</div></div>\n</div>"
        )

    def _gallery_item(self, photo: Photo, clone: bool) -> str:
        cls = "item slick-slide slick-cloned" if clone else "item slick-slide"
        hidden = ' aria-hidden="true"' if clone else ""
        return (
            f'<div class="{cls}" data-id="{photo.media_id}"{hidden}>\n'
            f'<div class="image"><img src="{escape(self.media + photo.path(825, 780))}" '
            f'alt="{escape(photo.alt)}"></div>\n'
            f'<div class="caption">{escape(photo.caption)}</div>\n'
            f"{'' if clone else self._popup(photo, ' slideshow')}\n</div>"
        )

    def _gallery(self) -> str:
        photos = self.a.gallery
        if not photos:
            return ""
        # slick carousels clone the last and first slides around the real ones
        items = [self._gallery_item(photos[-1], True)]
        items += [self._gallery_item(p, False) for p in photos]
        items.append(self._gallery_item(photos[0], True))
        return (f'<div class="gallery dgov2slideshow-gallery" data-count="{len(photos)}">\n'
                + "\n".join(items) + "\n</div>")

    def _tags(self) -> str:
        if not self.a.tags:
            return ""
        links = " ".join(
            f'<a href="/Search-Results/Term/{2000 + i}/{slugify(t)}/">{escape(t)}</a>'
            for i, t in enumerate(self.a.tags))
        return f'<div class="tags"><span class="subhead">Tags:</span> {links}</div>'

    def _related(self) -> str:
        if not self.a.related:
            return ""
        items = "\n".join(
            f'<div class="item"><a class="article-link" href="{escape(self.url(r))}">'
            f'{escape(r.title)}</a><div class="subtitle">{ap_date(r.published.date())}</div></div>'
            for r in self.a.related)
        return (f'<div class="related ntext">\n<div class="title">Related Stories</div>\n'
                f"{items}\n</div>")

    def _share(self, css_class: str) -> str:
        url = escape(self.url())
        return (
            f'<span class="{css_class}"><span class="pipe">|</span>'
            f'<span class="a2a_kit a2a_kit_size_32" data-a2a-url="{url}">'
            '<a class="a2a_button_facebook social-link" aria-label="Share to Facebook" href="/#facebook">'
            '<span class="fa fa-facebook"></span></a>'
            '<a class="a2a_button_x social-link" aria-label="Share to X" href="/#x">'
            '<span class="fa-brands fa-x-twitter"></span></a></span></span>'
        )


# -- listings ----------------------------------------------------------------------------------------


def listing_item(head: Head, base: str, position: int) -> str:
    """One listing entry in the real home page's markup (``div.item > figure > figcaption``)."""
    url = escape(base + head.path)
    when = head.published
    parity = "even" if position % 2 == 0 else "odd"
    return f"""<div class="dgov-col-sm-4">
		<div class="item item-{position} item-{head.article_id} item-{parity}">
			<figure>
				<div class="dgov-grid dgov-grid-bleed">
					<div class="dgov-col-12 dgov-col-xs-9 dgov-col-sm-12 dgov-col-md-12 dgov-col-lg-8">
						<figcaption>
							<span class="category">
								<a class="content-type-text" href="{escape(base + head.ctype.section)}"><span>{escape(head.ctype.label)}</span></a>
							<span class="separator">|</span> <time data-dateago="{when:%Y-%m-%dT%H:%M:%S}" data-dateap="{ap_date(when.date())}">{ap_date(when.date())}</time></span>
							<h3 class="title"><a href="{url}">{escape(head.title)}</a></h3>
							<p class="summary">{escape(head.summary)}</p>
							<a class="btn btn-primary btn-primary-ghost hide" href="{url}"> Read More</a>
						</figcaption>
					</div>
				</div>
			</figure>
			<div class="clearfix"></div>
		</div>
	</div>"""


def listing_page(title: str, path: str, heads: list[Head], base: str, page_no: int,
                 last_page: int) -> str:
    container = listing_container(title, path, heads, base, page_no, last_page)
    return page(title, title, base + path, f"{title} from the U.S. Department of War.", container,
                path=path)


def listing_container(title: str, path: str, heads: list[Head], base: str, page_no: int,
                      last_page: int) -> str:
    """The listing's container (items and pager), without the page around it."""
    items = "\n".join(listing_item(h, base, i + 1) for i, h in enumerate(heads))
    if not heads:
        items = '<p class="no-results">No results found.</p>'
    links = []
    if page_no > 1:
        links.append(f'<li><a class="prev" href="{escape(path)}?Page={page_no - 1}">Previous</a></li>')
    for n in range(max(1, page_no - 2), min(last_page, page_no + 2) + 1):
        if n == page_no:
            links.append(f'<li class="active"><span>{n}</span></li>')
        else:
            links.append(f'<li><a href="{escape(path)}?Page={n}">{n}</a></li>')
    if page_no < last_page:
        links.append(f'<li><a class="next" href="{escape(path)}?Page={page_no + 1}">Next</a></li>')
    container = f"""<div class="alist listing">
<header class="content-wrap"><h1 class="maintitle">{escape(title)}</h1></header>
<div class="alist-inner listView"><div class="dgov-grid">
{items}
</div></div>
<div class="pagination-wrap"><ul class="pagination">{"".join(links)}</ul></div>
</div>"""
    return container


def not_found_page(base: str, path: str) -> str:
    container = ('<div class="error-page content-wrap"><h1 class="maintitle">Page Not Found</h1>'
                 "<p>The page you requested could not be found.</p></div>")
    return page("Page Not Found", "Error", base + path, "Page not found.", container, path=path)


# -- feeds, sitemaps, robots ------------------------------------------------------------------------


def http_date(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


def rss(ctype: ContentType | None, heads: list[Head], base: str) -> str:
    label = ctype.label if ctype else "All News"
    items = "\n".join(
        f"""  <item>
    <title>{escape(h.title)}</title>
    <link>{escape(base + h.path)}</link>
    <guid isPermaLink="true">{escape(base + h.path)}</guid>
    <description>{escape(h.summary)}</description>
    <pubDate>{http_date(h.published)}</pubDate>
    <category>{escape(h.ctype.label)}</category>
  </item>""" for h in heads)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>U.S. Department of War - {escape(label)}</title>
  <link>{escape(base)}/</link>
  <description>{escape(label)} from the U.S. Department of War</description>
  <language>en-US</language>
{items}
</channel>
</rss>
"""


def sitemap_index(base: str, children: int, lastmod: datetime) -> str:
    entries = "\n".join(
        f"  <sitemap><loc>{escape(base)}/sitemaps/news-{n}.xml</loc>"
        f"<lastmod>{lastmod:%Y-%m-%d}</lastmod></sitemap>" for n in range(1, children + 1))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"  <sitemap><loc>{escape(base)}/sitemaps/sections.xml</loc></sitemap>\n"
            f"{entries}\n</sitemapindex>\n")


def urlset(entries: list[tuple[str, datetime | None]]) -> str:
    lines = []
    for loc, lastmod in entries:
        mod = f"<lastmod>{lastmod:%Y-%m-%d}</lastmod>" if lastmod else ""
        lines.append(f"  <url><loc>{escape(loc)}</loc>{mod}</url>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(lines) + "\n</urlset>\n")


def robots_txt(base: str, crawl_delay: float) -> str:
    delay = f"{crawl_delay:g}"
    return (
        "User-agent: *\n"
        f"Crawl-delay: {delay}\n"
        "Disallow: /Search-Results/\n"
        "Disallow: /DesktopModules/Admin/\n"
        "Disallow: /Portals/1/Documents/Private/\n"
        "\n"
        f"Sitemap: {base}/sitemap.xml\n"
    )


SECTION_TITLES = {
    "/News/News-Stories/": "News Stories",
    "/News/Releases/": "Releases",
    "/News/Transcripts/": "Transcripts",
    "/News/Speeches/": "Speeches",
    "/News/Contracts/": "Contracts",
    "/News/Feature-Stories/": "Feature Stories",
    "/News/Advisories/": "Advisories",
    "/News/Archive/": "News Archive",
}
assert {ct.section for ct in CONTENT_TYPES} < SECTION_TITLES.keys()
