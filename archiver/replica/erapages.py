"""HTML of the replica's older markup eras (``archiver replica --era``), cut from real pages.

Each era's page is the real saved page of that era (``data/skeleton-<era>.html``, byte copies of
fixtures/real/) with its article container swapped for ours, written with that page's structure,
class names and furniture:

- ``aspnet``: ``defenselink-2006-release-10242.html`` (DefenseLink ASP.NET, HTML 4 tables, CRLF,
  no charset declared): letterhead, "On the Web:" line, media/public contacts, "IMMEDIATE
  RELEASE", "No. 1221-06" and the date, ``div.text12`` paragraphs, "Printer-friendly Version".
- ``dnn``: ``dnn2018-contract-605989.html`` (the DNN "DefenseGOV" skin): ``div.adetail.<type>``,
  the "historical purposes only" banner, ``h1.title``, ``p.info``, ``span.date`` with "Release
  No:", PRINT | E-MAIL, ``span.text`` body.
- ``dgov2``: ``dgov2-2021-release-2411893.html``: ``div.adetail.newsroom.aframe > .content >
  .inside.ntext > .header`` (``h1.maintitle``, ``div.date``), ``div.body``.
- ``wargov``: the default replica's modern markup on the war.gov skeleton (render.py).
- ``defenselink-static``: no 1990s page is saved here; written from what the static DefenseLink
  news pages of the time were (HTML 3.2, upper-case tags, no CSS, unclosed ``<P>``): the
  "DefenseLINK News" graphic, the kind's letterhead ("OFFICE OF ASSISTANT SECRETARY OF DEFENSE
  (PUBLIC AFFAIRS)", IMMEDIATE RELEASE, the date, "No. 276-98", the media and public phone
  lines), the ``<H3>`` headline, plain ``<P>`` text, "-END-", the section links; windows-1252
  bytes, declared or not (docs/replica.md says what is invented).

What the real pages do not show (news stories of DefenseLink, DNN news, listings of DefenseLink)
is invented in the same style; docs/replica.md lists what.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from html import escape
from importlib import resources

from archiver.replica import eras
from archiver.replica.corpus import Article, Head, ap_date, media_base
from archiver.replica.render import HISTORICAL_NOTICE, ArticleRenderer, listing_container

DNN_NOTICE = (
    "This information is provided for historical purposes only. It may contain outdated information "
    'and links may no longer function. Please contact the <a href="https://www.defense.gov/Contact/'
    'Website-Feedback">DOD Webmaster</a> if you have any questions about this archive.'
)
#: DNN container class and breadcrumb "view" of each content type (Contract-View is real)
DNN_VIEWS: dict[str, tuple[str, str]] = {
    "news-story": ("news", "Article View"), "release": ("release", "News Release View"),
    "transcript": ("transcript", "Transcript View"), "speech": ("speech", "Speech View"),
    "contract": ("contract", "Contract View"), "feature": ("feature", "Story View"),
    "advisory": ("advisory", "Advisory View"),
}


@dataclass(frozen=True)
class EraSkeleton:
    """A real page of an era cut around its article container (line ends kept as saved)."""

    head: str
    before: str
    after: str


def _read(name: str) -> str:
    # bytes, not read_text(): universal newlines would turn the real CRLF line ends into LF
    return resources.files("archiver.replica").joinpath("data", name).read_bytes().decode("utf-8")


@cache
def skeleton(era: str) -> EraSkeleton:
    page = _read(f"skeleton-{era}.html")
    head_end = page.lower().index("</head>") + len("</head>")
    if era == "aspnet":
        start = page.index('<span id="lblArticleContent">')
        end = page.index("</span>", page.index("<!-- CONTENT END -->")) + len("</span>")
    elif era == "dnn":
        start = page.index('<div class="adetail contract">')
        end = page.index("</div>\n</div>", page.index('<div class="tags">', start)) + len("</div>\n</div>")
    else:
        start = page.index('<div class="adetail')
        end = page.rindex("</div>", start, page.index('<script type="text/javascript">', start)) + 6
    return EraSkeleton(page[:head_end], page[head_end:start], page[end:])


#: the real pages' absolute URLs of requisites on the site's own host of the time (the DNN skin's
#: ``https://www.defense.gov/DesktopModules/AccordionMenu/...`` stylesheet, DefenseLink's
#: ``http://www.defenselink.mil/style/...`` stylesheets and images)
_OWN_HOST_REQUISITE = re.compile(
    r"""(?<=["'])(?:https?://www\.defense\.gov|https?://www\.defenselink\.mil)"""
    r"(?=/(?:desktopmodules|portals|resources|style|images|graphics|ssi)/)", re.I)


def own_host_requisites(html: str, base: str) -> str:
    """``html`` as served from ``base``: asked by another name than the real site's, the page's
    requisites on the real site's hosts are the replica's own (the paths kept), so that a crawl of
    the replica archives them from it, never from the real site (docs/replica.md)."""
    base = base.rstrip("/")
    if not base or media_base(base) != base:  # the real names (a proxy): the real page's bytes
        return html
    return _OWN_HOST_REQUISITE.sub(base, html)


@cache
def site_skeleton(era: str, base: str) -> EraSkeleton:
    """:func:`skeleton` as served from ``base`` (:func:`own_host_requisites`)."""
    sk = skeleton(era)
    return EraSkeleton(*(own_host_requisites(part, base) for part in (sk.head, sk.before, sk.after)))


def _sub_attr(html: str, pattern: str, value: str) -> str:
    """Replace the value of the (single-quoted, as in these skins) meta ``pattern`` names."""
    return re.sub(pattern, lambda m: m.group(1) + escape(value), html, count=1)


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def encode_aspnet(html: str, number: int) -> bytes:
    """DefenseLink bytes: undeclared UTF-8 (as the saved page) or, for odd numbers, windows-1252
    declared in a ``<meta http-equiv>`` (what IIS pages of the time mostly sent)."""
    if number % 2 == 0:
        return html.encode("utf-8")
    meta = '\r\n\t<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
    html = html.replace("<HEAD>", "<HEAD>" + meta, 1)
    return html.encode("cp1252", errors="xmlcharrefreplace")


# -- aspnet (DefenseLink / the ASP.NET site) ------------------------------------------------------


class AspnetRenderer:
    """A DefenseLink page (``Release.aspx?ReleaseID=<n>`` and the other kinds) of one article."""

    def __init__(self, article: Article, base_url: str) -> None:
        self.a = article
        self.h = article.head
        self.base = base_url.rstrip("/")
        self.kind = eras.LEGACY_KINDS[self.h.ctype.name]

    def html(self) -> bytes:
        container = _crlf(self._container())
        return encode_aspnet(aspnet_page(self._title(), self.h.path, self.h.published.date(), container,
                                         self.base), self.h.legacy_number)

    def _title(self) -> str:
        site = "DefenseLink" if self.h.published.date() < eras.DEFENSE_GOV_FROM else "Defense.gov"
        return f"{site} {self.kind.label}: {self.h.title}"

    def _container(self) -> str:
        h = self.h
        when = h.published.date()
        office = "American Forces Press Service" if h.ctype.name == "news-story" else \
            "Office of the Assistant Secretary of Defense (Public Affairs)"
        url = escape(self.base + h.path)
        numbered = h.ctype.name in {"release", "contract"}
        number = f"No. {when.timetuple().tm_yday * 3 + h.k % 3 + 1:03d}-{when:%y}<br>" if numbered else ""
        flag = "<strong>IMMEDIATE RELEASE</strong>" if numbered else "&nbsp;"
        return f"""<span id="lblArticleContent"><table width="100%" cellpadding="4" cellspacing="0" border="0" bgcolor="FFFFFF">
	<tr>
		<td>
			<table width="600" cellpadding="0" cellspacing="0" border="0">
				<tr>
					<td align="left" width="108"><img src="http://www.defenselink.mil/graphics/DODc-small.gif" height="100" width="100" alt="" title="Seal of the Department of Defense" border=""></td>
					<td align="left" width="492">
						<span class="text11b">U.S. Department of Defense</span><br />
						<span class="text11">{office}</span><br />
						<span class="Headline24blue">{self.kind.label}</span>
					</td>
				</tr>
			</table>
		</td>
	</tr>
	<tr>
		<td>
			<table width="100%" cellpadding="0" cellspacing="0" border="0">
				<tr>
					<td width="50%" align="left" valign="top">
						<span class="Text11">On the Web: </span><br /><a title="Web link for this Page" class="link10" href='{url}'>{url}</a><!-- /document-link --><br>
						<span class="Text11">Media contact: +1 (703) 697-5131/697-5132</span></td>
					<td width="50%" align="left" valign="top">
						<span class="Text11">Public contact:<br />
						<a title="Click here to contact Public Affairs" href="http://www.dod.mil/faq/comment.html" class="link10">http://www.dod.mil/faq/comment.html</a><br>
						or +1 (703) 428-0711 +1</span></td>
				</tr>
			</table>
		</td>
	</tr>
</table>
<!-- CONTENT START -->
<table width="100%" cellpadding="0" cellspacing="5" border="0" bgcolor="FFFFFF">
	<tr><td colspan='2' height="2"><hr size="1" noshade /></td></tr>
	<tr>
		<td>
			<table cellpadding="0" cellspacing="0" border="0" width="100%">
				<tr>
					<td valign="Top" align="Left" class="text12b">{flag}</td>
					<td valign="Top" align="Right" class="text12b"><strong>{number}{when:%B %d, %Y}</strong></td>
				</tr>
			</table>
		</td>
	</tr>
</table>
<!-- main-body -->
<table width="100%" cellpadding="0" cellspacing="5" border="0" bgcolor="FFFFFF">
	<tr><td colspan="2"><hr size="1" noshade /></td></tr>
	<tr>
		<td colspan="2">
			<div align="center" class="text12b">{escape(h.title)}</div><br>
{self._lead()}			<div class="text12">{self._body()}</div>
		</td>
	</tr>
	<tr><td colspan="2"><!-- /main-content --><!-- printer-friendly --><hr size='1' noshade /><TABLE WIDTH='80%'><TR><TD CLASS='common-footer' valign='middle'><A TITLE='Printer-Friendly version of this page' HREF='http://www.defenselink.mil/Utility/PrintItem.aspx' CLASS='standardTextLink' TARGET='_top'><IMG SRC='http://www.defenselink.mil/graphics/printer.gif' HSPACE='4' ALT='A simpler version of this page for printing' BORDER='0' HEIGHT='18' WIDTH='19'>Printer-friendly Version</A><BR></TD><TD CLASS='common-footer' valign='middle'><A TITLE='Email a copy of this page' HREF='http://www.defenselink.mil/Utility/EmailACopy.aspx' CLASS='standardTextLink' TARGET='_top'><IMG SRC='http://www.defenselink.mil/graphics/envelope.gif' HSPACE='4' ALT='Email a copy of this page to a friend or colleague' BORDER='0' HEIGHT='11' WIDTH='16'>Email A Copy</A><BR></TD></TR></TABLE><hr size='1' noshade /><!-- /printer-friendly --></td></tr>
</table>
<!-- /main-body -->
<!-- CONTENT END -->
</span>"""

    def _lead(self) -> str:
        """Byline (stories) or presenter line (transcripts, speeches) above the text."""
        if self.a.authors:
            names = " and ".join(escape(n) for n in self.a.authors)
            return (f'\t\t\t<div class="text11b">By {names}<br />{escape(self.a.byline_org)}</div><br>\n')
        if self.a.presenter:  # transcripts and speeches
            return f'\t\t\t<div class="text12"><b>Presenter:</b> {escape(self.a.presenter)}</div><br>\n'
        return ""

    def _body(self) -> str:
        name = self.h.ctype.name
        out = []
        for block in self.a.blocks:
            text = escape(block.text)
            if name == "contract":
                out.append(f'<p align="center"><b>{text}</b></p>' if block.kind == "h" else f"<p>{text}</p>")
            elif name in {"transcript", "speech"}:
                out.append(f"<p><b>{text}</b></p>" if block.kind == "h" else f"<p>{text}</p>")
            else:  # releases, stories, advisories: Word-pasted paragraphs with blank spacers, as the real one
                style = "MARGIN: 0in 0in 0pt" if block.kind == "h" else "MARGIN: 0in 0in 0pt; TEXT-INDENT: 0.5in"
                inner = f"<strong>{text}</strong>" if block.kind == "h" else f"{text} "
                out.append(f'<div style="{style}">{inner}</div>')
                out.append('<div style="MARGIN: 0in 0in 0pt">\u00a0</div>')
        if out and out[-1].endswith("\u00a0</div>"):
            out.pop()
        return "\n".join(out)


def aspnet_page(title: str, path: str, published: date, container: str, base: str = "") -> str:
    """The DefenseLink skeleton around ``container`` (title, form action, dates swapped), as
    served from ``base`` (:func:`site_skeleton`)."""
    sk = site_skeleton("aspnet", base)
    head = re.sub(r"<title>.*?</title>", lambda _m: f"<title>{escape(title)}</title>", sk.head, count=1)
    head = head.replace('content="12/1/2006"', f'content="{published.month}/{published.day}/{published.year}"', 1)
    captured = date.fromordinal(published.toordinal() + 5)  # the site header shows the day it was seen
    before = sk.before.replace("<b>Dec. 06, 2006</b>", f"<b>{captured:%b}. {captured:%d, %Y}</b>", 1)
    action = escape(path.rsplit("/", 1)[-1])
    before = before.replace('action="Release.aspx?ReleaseID=10242"', f'action="{action}"', 1)
    state = base64.b64encode(container.encode("utf-8")[:3000]).decode("ascii")
    before = re.sub(r'(name="__VIEWSTATE" value=")[^"]*', lambda m: m.group(1) + state, before, count=1)
    return head + before + own_host_requisites(container, base) + sk.after


def aspnet_listing(kind: eras.LegacyKind, heads: list[Head], base: str, month: tuple[int, int],
                   older: tuple[int, int] | None) -> bytes:
    """A DefenseLink monthly list (``/news/articles.aspx?SectionID=0&mo=5&yr=2002``): invented
    in the era's table style (no saved page shows one): date cell, linked title, and a
    "Previous Month" link to the next older month that has items."""
    year, mo = month
    label = date(year, mo, 1).strftime("%B %Y")
    rows = "\n".join(
        f'\t<tr>\n\t\t<td class="text11" valign="top" nowrap>{h.published:%B %d, %Y}</td>\n'
        f'\t\t<td class="text11"><a class="link10" href="{escape(h.path)}">{escape(h.title)}</a></td>\n\t</tr>'
        for h in heads)
    nav = ""
    if older is not None:
        nav = (f'<p class="text11"><a class="link10" href="{escape(month_url(kind, *older))}">'
               "&laquo; Previous Month</a></p>")
    container = f"""<span id="lblArticleContent"><table width="100%" cellpadding="4" cellspacing="0" border="0" bgcolor="FFFFFF">
	<tr>
		<td><span class="Headline24blue">{escape(kind.listing_title)}</span><br />
		<span class="text11b">{label}</span></td>
	</tr>
</table>
<!-- CONTENT START -->
<table width="100%" cellpadding="3" cellspacing="0" border="0" bgcolor="FFFFFF" id="tblArchive">
{rows}
</table>
{nav}
<!-- CONTENT END -->
</span>"""
    site = "DefenseLink" if date(year, mo, 1) < eras.DEFENSE_GOV_FROM else "Defense.gov"
    html = aspnet_page(f"{site} {kind.listing_title}: {label}", month_url(kind, year, mo),
                       date(year, mo, 28), _crlf(container), base)
    return html.encode("utf-8")


def month_url(kind: eras.LegacyKind, year: int, month: int) -> str:
    section = "SectionID=0&" if kind.kind == "newsarticle" else ""
    return f"{kind.listing}?{section}mo={month}&yr={year}"


# -- defenselink-static (the 1990s static news pages) ----------------------------------------------

#: the phone lines of the 1990s letterhead (OASD(PA) press desk, public inquiries)
STATIC_PHONES = "(703)695-0192(media)<BR>\n(703)697-5737(public/industry)"
_STATIC_HEAD = """<HTML>
<HEAD>
<TITLE>DefenseLINK News: {title}</TITLE>{meta}
</HEAD>
<BODY BGCOLOR="#FFFFFF" TEXT="#000000" LINK="#0000FF" VLINK="#660099">
<CENTER><A HREF="/news/"><IMG SRC="/news/graphics/dlnews.gif" WIDTH="468" HEIGHT="50" BORDER="0" ALT="DefenseLINK News"></A></CENTER>
"""


def _text(value: str) -> str:
    return escape(value, quote=False)


def encode_static(html: str, number: int) -> bytes:
    """1990s bytes: windows-1252, for odd numbers declared as ISO-8859-1 in a ``<META
    HTTP-EQUIV>`` (what the editors of the time wrote; WHATWG reads the label as windows-1252),
    for even ones declared nowhere."""
    meta = '\n<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=iso-8859-1">' if number % 2 else ""
    return html.replace("{meta}", meta, 1).encode("cp1252", errors="xmlcharrefreplace")


def _static_footer(year: int, month: int, kind: eras.StaticKind) -> str:
    index = eras.static_folder(year, month) + kind.index
    return f"""<HR>
<CENTER><FONT SIZE="2">[ <A HREF="/news/">DefenseLINK News</A> | <A HREF="{index}">{_text(kind.index_title)}</A> | <A HREF="/">DefenseLINK Home</A> | <A HREF="/news/search.html">Search</A> ]</FONT></CENTER>
</BODY>
</HTML>
"""


class StaticRenderer:
    """A 1990s static DefenseLink news page (``/news/Jun1998/b06011998_bt276-98.html``)."""

    def __init__(self, article: Article) -> None:
        self.a = article
        self.h = article.head
        self.kind = eras.STATIC_KINDS[self.h.ctype.name]

    def html(self) -> bytes:
        h = self.h
        when = h.published.date()
        page = (_STATIC_HEAD.replace("{title}", _text(h.title)) + self._header(when) + "<HR>\n"
                + self._headline() + self._lead() + self._body() + self._end()
                + _static_footer(when.year, when.month, self.kind))
        return encode_static(page, h.legacy_number)

    def _header(self, when: date) -> str:
        """The kind's letterhead, date and number (everything above the headline)."""
        name = self.h.ctype.name
        graphic = (f'<CENTER><IMG SRC="/news/graphics/{name}.gif" WIDTH="420" HEIGHT="40" '
                   f'ALT="{escape(self.kind.label)}"></CENTER>\n')
        day = f"{when:%B} {when.day}, {when.year}"
        number = f"No. {self.h.legacy_number:03d}-{when:%y}"
        if name == "news-story":
            return graphic + f'<P ALIGN="RIGHT"><B>{day}</B>\n'
        if name == "transcript":
            zone = "EDT" if 4 <= when.month <= 10 else "EST"  # daylight saving time, as then
            return graphic + f"""<CENTER><B>United States Department of Defense</B></CENTER>
<P>
<TABLE WIDTH="100%" BORDER="0">
<TR><TD ALIGN="LEFT" VALIGN="TOP">Presenter: {_text(self.a.presenter)}</TD>
<TD ALIGN="RIGHT" VALIGN="TOP">{when:%A}, {day} - {1 + self.h.k % 4}:30 p.m. {zone}</TD></TR>
</TABLE>
"""
        if name == "speech":
            return graphic + f"""<CENTER><B>Remarks as Delivered by {_text(self.a.presenter)}</B><BR>
{day}</CENTER>
"""
        if name == "advisory":
            return f"""<CENTER><B>MEMORANDUM FOR CORRESPONDENTS</B></CENTER>
<P>
<TABLE WIDTH="100%" BORDER="0">
<TR><TD ALIGN="LEFT" VALIGN="TOP">No. {self.h.legacy_number:03d}-M<BR>
{STATIC_PHONES}</TD>
<TD ALIGN="RIGHT" VALIGN="TOP">{day}</TD></TR>
</TABLE>
"""
        return graphic + f"""<CENTER><B>OFFICE OF ASSISTANT SECRETARY OF DEFENSE (PUBLIC AFFAIRS)</B></CENTER>
<P>
<TABLE WIDTH="100%" BORDER="0">
<TR><TD ALIGN="LEFT" VALIGN="TOP">{number}<BR>
{STATIC_PHONES}</TD>
<TD ALIGN="RIGHT" VALIGN="TOP">IMMEDIATE RELEASE<BR>
{day}</TD></TR>
</TABLE>
"""

    def _headline(self) -> str:
        """Releases, contracts and memoranda print the headline in capitals, the others as titled."""
        title = self.h.title
        if self.h.ctype.name in {"release", "contract", "advisory"}:
            title = title.upper()
        return f'<H3 ALIGN="CENTER">{_text(title)}</H3>\n'

    def _lead(self) -> str:
        if self.a.authors:
            names = " and ".join(_text(n) for n in self.a.authors)
            return f"<P><B>By {names}<BR>\n{_text(self.a.byline_org)}</B>\n"
        return ""

    def _body(self) -> str:
        contract = self.h.ctype.name == "contract"
        out = []
        for block in self.a.blocks:
            text = _text(block.text)
            if block.kind == "h":
                out.append(f'<P ALIGN="CENTER"><B>{text}</B>' if contract else f"<P><B>{text}</B>")
            else:
                out.append(f"<P>{text}")
        return "\n".join(out) + "\n"

    def _end(self) -> str:
        return "<P><CENTER>-END-</CENTER>\n" if self.h.ctype.name in {"release", "contract", "advisory"} else ""


def static_index(ctype: str, heads: list[Head], month: tuple[int, int], older: tuple[int, int] | None) -> bytes:
    """A month folder's index of one kind (``/news/Jun1998/releases.html``), invented in the style
    of the pages (no saved one here): a table of date cell + linked title, newest first, and a
    "Previous Month" link to the next older month that has items."""
    kind = eras.STATIC_KINDS[ctype]
    year, mo = month
    label = date(year, mo, 1).strftime("%B %Y")
    rows = "\n".join(
        f'<TR><TD VALIGN="TOP" NOWRAP>{h.published:%B} {h.published.day}, {h.published.year}</TD>'
        f'<TD><A HREF="{escape(h.path.rsplit("/", 1)[1])}">{_text(h.title)}</A></TD></TR>' for h in heads)
    nav = ""
    if older is not None:
        nav = f'<P><A HREF="{eras.static_folder(*older)}{kind.index}">Previous Month</A>\n'
    page = (_STATIC_HEAD.replace("{title}", _text(f"{kind.index_title} {label}"))
            + f"""<H2 ALIGN="CENTER">{_text(kind.index_title)}<BR>
{label}</H2>
<TABLE WIDTH="100%" BORDER="0" CELLPADDING="3">
{rows}
</TABLE>
{nav}""" + _static_footer(year, mo, kind))
    return encode_static(page, 0)


# -- dnn (the DNN "DefenseGOV" skin) ----------------------------------------------------------------


def dnn_page(title: str, og_title: str, url: str, og_url: str, path: str, description: str,
             section: tuple[str, str], view: str, container: str, base: str = "") -> str:
    sk = site_skeleton("dnn", base)
    head = re.sub(r"<title>.*?</title>", lambda _m: f"<title>\n\t{title} > U.S. DEPARTMENT OF DEFENSE > {view}\n"
                  "</title>", sk.head, count=1, flags=re.S)
    head = _sub_attr(head, r'(<meta id="MetaDescription" name="DESCRIPTION" content=")[^"]*', description)
    head = _sub_attr(head, r"(<meta property='og:url' content=')[^']*", og_url)
    head = _sub_attr(head, r"(<meta property='og:title' content=')[^']*", og_title)
    head = _sub_attr(head, r"(<meta property='og:description' content=')[^']*", description)
    before = sk.before.replace('action="/News/Contracts/Contract-View/Article/605989/"',
                               f'action="{escape(path)}"', 1)
    section_url, label = section
    crumbs = before.index("dnn_Breadcrumb_Breadcrumb_lblBreadCrumb")
    crumbs_end = before.index("</script>", crumbs)
    trail = (before[crumbs:crumbs_end]
             .replace("https://www.defense.gov/News/Contracts/Contract-View/", escape(url), 1)
             .replace('<span itemprop="name">Contract View</span>', f'<span itemprop="name">{escape(view)}</span>', 1)
             .replace("https://www.defense.gov/News/Contracts/", escape(section_url), 1)
             .replace('<span itemprop="name">Contracts</span>', f'<span itemprop="name">{escape(label)}</span>', 1))
    return head + before[:crumbs] + trail + before[crumbs_end:] + container + sk.after


class DnnRenderer(ArticleRenderer):
    """An article page of the DNN "DefenseGOV" skin (2015-2019)."""

    def html(self) -> bytes:  # type: ignore[override]
        h = self.h
        cls, view = DNN_VIEWS[h.ctype.name]
        url = self.url()
        og_url = url if h.ctype.has_slug else url + "/"  # the skin prints ``/<id>//`` without a slug
        # the saved contract page's <title> lacks the headline (DNN left it empty): kept for contracts
        title = "" if h.ctype.name == "contract" else escape(h.title)
        description = " ".join(b.text for b in self.a.blocks if b.kind == "p")[:240]
        return dnn_page(title, h.title, url, og_url, h.path, description,
                        (self.base + h.ctype.section, h.ctype.label), view,
                        self._container(cls, og_url), self.base).encode("utf-8")

    def _container(self, cls: str, og_url: str) -> str:
        h = self.h
        when = h.published.date()
        notice = f'\n    <div class="alert alert-warning">{DNN_NOTICE}</div>' if self.a.historical else ""
        heading = "Contracts " if h.ctype.name == "contract" else escape(h.title)
        if self.a.authors:
            names = " and ".join(escape(n) for n in self.a.authors)
            info = f"By {names}<br />{escape(self.a.byline_org)}"
        elif self.a.presenter:
            info = f"Presenter: {escape(self.a.presenter)}"
        else:
            info = "Press Operations"
        prefix = {"contract": "CR", "release": "NR", "advisory": "MA"}.get(h.ctype.name)
        number = f"\n        Release No: {prefix}-{when.timetuple().tm_yday:03d}-{when:%y}\n        <br />" \
            if prefix else ""
        mail = (f'mailto:?Subject=%20-%20U.S. DEPARTMENT OF DEFENSE&body=Here%20is%20an%20article%20I%20'
                f'think%20you%20will%20find%20interesting:%20{escape(og_url)}')
        social = _DNN_SOCIAL
        return f"""<div class="adetail {cls}">{notice}
    <h1 class="title">{heading}</h1>
    <p class="info">{info}</p>

    <span class="date">{number}
        {ap_date(when)}
    </span>

    {social}
    <span class="left sub-action">

        <a href='{escape(self.base)}/DesktopModules/ArticleCS/Print.aspx?PortalId=1&ModuleId=761&Article={h.article_id}' target="_blank">PRINT</a>

        &nbsp;|&nbsp;

        <a href="{mail}">E-MAIL</a>

    </span>
    <div style="clear:both;"></div>
    
    <span class="text">{self._dnn_body()}</span>
    <div style="clear:both"></div>
{self._gallery()}
    <div class="related">
        {self._related_items()}
    </div>


    {social}
    <div class="tags">
        {self._tag_links()}
    </div>
</div>"""

    def _dnn_body(self) -> str:
        contract = self.h.ctype.name == "contract"
        # the saved contracts page opens with the section's label as a bold centred line
        out = ['<p style="text-align: center;">\n\t<strong>CONTRACTS</strong></p>'] if contract else []
        for i, block in enumerate(self.a.blocks):
            text = escape(block.text)
            if block.kind == "h":
                style = ' style="text-align: center;"' if contract else ""
                out.append(f"<p{style}>\n\t<strong>{text}</strong></p>")
            elif block.kind == "p":
                # the saved page opens some paragraphs with a <br /> (pasted from a document)
                lead = "\n\t<br />" if contract and i % 4 == 2 else ""
                out.append(f"<p>{lead}\n\t{text}</p>")
            elif block.kind == "photo":
                out.append(self._photo(self.a.photos[block.index]))
            elif block.kind == "video":
                out.append(self._video(self.a.videos[block.index]))
        if self.a.twitter:
            name, _, handle = self.a.twitter.rpartition("@")
            out.append(f'<p>\n\t{escape(name)}<a href="https://twitter.com/{handle.rstrip(")")}">'
                       f"@{escape(handle)}</a></p>")
        return "\n".join(out)

    def _related_items(self) -> str:
        return "\n".join(
            f'<div class="item"><a class="article-link" href="{escape(self.url(r))}">{escape(r.title)}</a>'
            f'<div class="subtitle">{ap_date(r.published.date())}</div></div>' for r in self.a.related)

    def _tag_links(self) -> str:
        tags = self._tags()
        return tags[tags.index("</span>") + len("</span>"):-len("</div>")].strip() if tags else ""


_DNN_SOCIAL = """<div class="social">
        <div class="social-inner">
            <!-- AddThis Button BEGIN -->
            
<div class="addthis_toolbox addthis_default_style ">
    <a class="addthis_button_preferred_1"></a>
    <a class="addthis_button_preferred_2"></a>
    <a class="addthis_button_preferred_3"></a>
    <a class="addthis_button_compact"></a>
    <a class="addthis_counter addthis_bubble_style"></a>
</div>
<script type="text/javascript" src="https://s7.addthis.com/js/250/addthis_widget.js#pubid=ra-55ccc85049045f9c">
            var addthis_config = {
                data_use_flash: false,
                data_use_cookies: false,
                ui_508_compliant: true
            }
</script>


            <!-- AddThis Button END -->
        </div>
    </div>"""


def dnn_listing(title: str, section: str, cls: str, heads: list[Head], base: str, page_no: int,
                last_page: int) -> bytes:
    """A section listing of the DNN skin, as ``dnn2018-contracts-listing-prettified.html``: a pager
    above and below ``div.alist.<type> > div.item > div.info`` (``.info-bar .date`` — empty on
    contracts, whose date is in the title — and ``.title a``); the pager has no "next" link, the
    page after ``li.active`` is the next one."""
    pager = _dnn_pager(base + section, page_no, last_page)
    items = "\n".join(
        f"""<div class="item">
<div class="info">
<div class="info-bar">
<span class="date">{"" if cls == "contract" else ap_date(h.published.date())}</span>
</div>
<div class="title">
<a href="{escape(base + h.path)}">{escape(h.title)}</a>
</div>
</div>
</div>""" for h in heads)
    container = f"""<div class="adetail-listing">
<h1 class="pageTitle">{escape(title)}</h1>
{pager}
<div class="alist {cls}">
{items}
</div>
{pager}
</div>"""
    url = base + section + (f"?Page={page_no}" if page_no > 1 else "")
    return dnn_page(escape(title), title, url, url, section, f"{title} of the U.S. Department of Defense",
                    (base + section, title), title, container, base).encode("utf-8")


def _dnn_pager(url: str, page_no: int, last_page: int) -> str:
    start = max(1, min(page_no - 5, last_page - 9))
    end = min(last_page, start + 9)
    links = []
    if start > 1:
        links.append(f'<li><a href="{escape(url)}"><span>1</span></a></li>')
        if start > 2:
            links.append('<li class="disabled"><a href="#">...</a></li>')
    for n in range(start, end + 1):
        href = escape(url if n == 1 else f"{url}?Page={n}")
        active = ' class="active"' if n == page_no else ""
        links.append(f'<li{active}><a href="{href}"><span>{n}</span></a></li>')
    if end < last_page:
        links.append('<li class="disabled"><a href="#">...</a></li>')
        links.append(f'<li><a href="{escape(url)}?Page={last_page}"><span>{last_page}</span></a></li>')
    return f'<div class="text-center"><ul class="pagination">{"".join(links)}</ul></div>'


# -- dgov2 (2019-2025) -----------------------------------------------------------------------------


def dgov2_page(title: str, label: str, url: str, path: str, description: str, container: str,
               article_id: int = 0, image: str = "") -> str:
    sk = skeleton("dgov2")
    head = re.sub(r"<title>.*?</title>", lambda _m: f"<title>\n\t{escape(title)} > U.S. Department of "
                  f"Defense > {escape(label)}\n</title>", sk.head, count=1, flags=re.S)
    head = _sub_attr(head, r'(<meta id="MetaDescription" name="DESCRIPTION" content=")[^"]*', description)
    for name, value in (("twitter:title", title), ("twitter:description", description)):
        head = _sub_attr(head, rf"(<meta name='{name}' content=')[^']*", value)
    for name, value in (("og:title", title), ("og:description", description), ("og:url", url)):
        head = _sub_attr(head, rf"(<meta property='{name}' content=')[^']*", value)
    if image:
        head = _sub_attr(head, r"(<meta property='og:image' content=')[^']*", image)
        head = _sub_attr(head, r"(<meta name='twitter:image' content=')[^']*", image)
    before = re.sub(r'(<form method="post" action=")[^"]*', lambda m: m.group(1) + escape(path),
                    sk.before, count=1)
    before = before.replace('<div class="page-title">Release</div>',
                            f'<div class="page-title">{escape(label)}</div>', 1)
    after = sk.after.replace("var articleId = 2411893;", f"var articleId = {article_id};", 1)
    return head + before + container + after


class Dgov2Renderer(ArticleRenderer):
    """An article page of DGOV2 (2019-2025) on www.defense.gov."""

    def html(self) -> bytes:  # type: ignore[override]
        h = self.h
        image = self.media + self.a.photos[0].path(1280, 1280) if self.a.photos else ""
        return dgov2_page(h.title, h.ctype.label, self.url(), h.path, h.summary, self._container(),
                          h.article_id, image).encode("utf-8")

    def _container(self) -> str:
        h = self.h
        kind = "news" if h.ctype.name in {"news-story", "feature"} else "newsroom"
        header = []
        if h.ctype.name == "release":
            header.append('<div class="presenterinfoType News Release">\n'
                          "                    Immediate Release\n                </div>")
        if self.a.presenter:
            header.append(f'<div class="presenter">{escape(self.a.presenter)}</div>')
        header.append(f'<h1 class="maintitle">\n                    {escape(h.title)}\n                </h1>')
        header.append(f'<div class="date">\n                    {ap_date(h.published.date())}\n'
                      "                </div>")
        if self.a.authors:
            names = " and ".join(escape(n) for n in self.a.authors)
            header.append(f'<div class="byline">By {names}, {escape(self.a.byline_org)}</div>')
        if self.a.historical:
            header.append(f'<div class="disclaimer">{HISTORICAL_NOTICE}</div>')
        share = self._dgov2_share()
        return f"""<div class="adetail {kind} no-abanner no-abanner-mobile aframe" itemscope itemtype="http://schema.org/NewsArticle">
    <div class="content">
        
        <div class="inside ntext">
            <div class="header">
                {chr(10).join(header)}
            </div>
            <div class="social-top">
                {share}
            </div>

            <hr />
            <div class="body">
                {self._dgov2_body()}
            </div>

            <div class="social-bottom">
                {share}
            </div>
            <hr />
            {self._gallery()}
            {self._tags()}
            {self._related()}
        </div>
    </div>
</div>"""

    def _dgov2_share(self) -> str:
        url = escape(self.url())
        return (f'<div class="addthis_toolbox addthis_default_style social-inner" addthis:url="{url}" addthis:media="">'
                '<a class="addthis_button_facebook social-link"><span class="fa fa-facebook"></span></a>'
                '<a class="addthis_button_twitter social-link"><span class="fa fa-twitter"></span></a>'
                '<a class="addthis_button_email social-link"><span class="fa fa-envelope"></span></a></div>')

    def _dgov2_body(self) -> str:
        out = []
        contract = self.h.ctype.name == "contract"
        for i, block in enumerate(self.a.blocks):
            text = escape(block.text)
            if block.kind == "h":
                style = ' style="text-align: center;"' if contract else ""
                out.append(f"<p{style}><strong>{text}</strong></p>")
            elif block.kind == "p":
                # the saved release ends sentences and paragraphs with &nbsp; (pasted text)
                out.append(f"<p>{text}&nbsp;</p>" if i % 3 == 1 else f"<p>{text}</p>")
            elif block.kind == "photo":
                out.append(self._photo(self.a.photos[block.index]))
            elif block.kind == "video":
                out.append(self._video(self.a.videos[block.index]))
        if self.a.twitter:
            name, _, handle = self.a.twitter.rpartition("@")
            out.append(f'<p><em>{escape(name)}<a href="https://twitter.com/{handle.rstrip(")")}">'
                       f"@{escape(handle)}</a></em></p>")
        return "\n\n".join(out)


def dgov2_listing(title: str, section: str, heads: list[Head], base: str, page_no: int,
                  last_page: int) -> bytes:
    """A DGOV2 section listing: the home page's item markup (homepage-2020-11.html) in the skin."""
    container = listing_container(title, section, heads, base, page_no, last_page)
    return dgov2_page(title, title, base + section, section, f"{title} from the U.S. Department of Defense.",
                      container).encode("utf-8")


# -- dispatch -----------------------------------------------------------------------------------------


def article_html(article: Article, base_url: str) -> tuple[bytes, bytes]:
    """(body bytes, Content-Type) of ``article`` in the markup of its era."""
    era = article.head.markup
    if era == eras.STATIC:  # a static file: the server sent text/html, the page its charset or none
        return StaticRenderer(article).html(), b"text/html"
    if era == "aspnet":
        # the real DefenseLink server named no charset (the page carries it, or nothing)
        return AspnetRenderer(article, base_url).html(), b"text/html"
    if era == "dnn":
        return DnnRenderer(article, base_url).html(), b"text/html; charset=utf-8"
    if era == "dgov2":
        return Dgov2Renderer(article, base_url).html(), b"text/html; charset=utf-8"
    return ArticleRenderer(article, base_url).html().encode("utf-8"), b"text/html; charset=utf-8"
