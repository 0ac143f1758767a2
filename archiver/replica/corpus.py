"""Deterministic corpus of defense.gov-like articles, generated lazily from a seed.

Article ``k`` (0 = oldest) is a pure function of ``(seed, size, k, revision)``, so a corpus of
100,000 articles costs nothing until a page is asked for, and two servers started with the same
options serve the same bytes. The ground-truth record of an article comes from the same objects
the HTML is rendered from, never from parsing the HTML back.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from archiver.replica import eras, text

START = datetime(2016, 1, 4, 9, 0, tzinfo=UTC)
END = datetime(2025, 10, 31, 17, 0, tzinfo=UTC)
FIRST_ID = 1_000_000
#: pages published before this date carry the "historical collection" notice
DEFAULT_HISTORICAL_CUTOFF = date(2021, 1, 20)
#: first year rendered with the 2020+ markup ("modern" era); older ones use the 2016-2019 markup
MODERN_ERA_FROM = 2020


@dataclass(frozen=True)
class ContentType:
    """One of the site's content types: where it lives and how the site labels it."""

    name: str
    section: str  # listing path
    article_prefix: str  # path before /<id>/
    label: str  # text of the section label on article pages
    code: int  # DNN ArticleCS content type number (RSS ContentType=, class content-type-N)
    weight: int
    has_slug: bool = True


CONTENT_TYPES: tuple[ContentType, ...] = (
    ContentType("news-story", "/News/News-Stories/", "/News/News-Stories/Article/Article/",
                "News Story", 1, 38),
    ContentType("release", "/News/Releases/", "/News/Releases/Release/Article/", "Release", 9, 15),
    ContentType("transcript", "/News/Transcripts/", "/News/Transcripts/Transcript/Article/",
                "Transcript", 2, 10),
    ContentType("speech", "/News/Speeches/", "/News/Speeches/Speech/Article/", "Speech", 3, 7),
    ContentType("contract", "/News/Contracts/", "/News/Contracts/Contract/Article/", "Contracts",
                400, 14, has_slug=False),
    ContentType("feature", "/News/Feature-Stories/", "/News/Feature-Stories/Story/Article/",
                "Feature", 800, 9),
    ContentType("advisory", "/News/Advisories/", "/News/Advisories/Advisory/Article/",
                "Advisory", 10, 7),
)
TYPES_BY_NAME = {ct.name: ct for ct in CONTENT_TYPES}
TYPES_BY_CODE = {ct.code: ct for ct in CONTENT_TYPES}
_TYPE_WEIGHTS = [ct.weight for ct in CONTENT_TYPES]


@dataclass(frozen=True)
class Photo:
    media_id: int
    virin: str
    title: str
    caption: str
    credit: str
    alt: str
    published: date

    def path(self, width: int = -1, height: int = -1) -> str:
        """media.defense.gov path: ``/<yyyy>/<Mon>/<dd>/<id>/<w>/<h>/0/<VIRIN>.JPG``."""
        d = self.published
        return f"/{d:%Y}/{d:%b}/{d:%d}/{self.media_id}/{width}/{height}/0/{self.virin}.JPG"


@dataclass(frozen=True)
class Video:
    title: str
    duration: int
    src: str

    @property
    def clock(self) -> str:
        return f"{self.duration // 60:02d}:{self.duration % 60:02d}"


@dataclass(frozen=True)
class Block:
    """One block of the article body in page order: paragraph, subheading, photo or video."""

    kind: str  # "p" | "h" | "photo" | "video"
    text: str = ""
    index: int = -1  # position in Article.photos / Article.videos


@dataclass(frozen=True)
class Head:
    """What other pages (listings, feeds, related stories) need to know of an article."""

    k: int
    article_id: int
    ctype: ContentType
    published: datetime
    title: str
    summary: str
    revision: int
    #: ``--era``: the markup era this article is served in ("" for the default replica)
    markup: str = ""
    #: ``aspnet`` pages: the number of the legacy URL (``ReleaseID=<n>``), in its kind's own space;
    #: ``defenselink-static`` pages: the number in the file name (``bt276-98``: ``k + 1``)
    legacy_number: int = 0

    @property
    def slug(self) -> str:
        return slugify(self.title)

    @property
    def legacy_kind(self) -> str:
        return eras.LEGACY_KINDS[self.ctype.name].kind if self.markup == "aspnet" else ""

    @property
    def path(self) -> str:
        if self.markup == "aspnet":
            return eras.LEGACY_KINDS[self.ctype.name].page.format(n=self.legacy_number)
        if self.markup == eras.STATIC:
            return eras.static_path(self.ctype.name, self.published.date(), self.legacy_number)
        if self.markup == "dnn":
            prefix = eras.DNN_PREFIXES[self.ctype.name]
            return f"{prefix}{self.article_id}/" + (f"{self.slug}/" if self.ctype.has_slug else "")
        if self.ctype.has_slug:
            return f"{self.ctype.article_prefix}{self.article_id}/{self.slug}/"
        return f"{self.ctype.article_prefix}{self.article_id}/"

    @property
    def era(self) -> str:
        if self.markup:
            return self.markup
        return "modern" if self.published.year >= MODERN_ERA_FROM else "legacy"


@dataclass(frozen=True)
class Article:
    head: Head
    authors: tuple[str, ...]
    byline_org: str
    twitter: str  # "(Follow ... on Twitter: @x)" line, or ""
    presenter: str
    blocks: tuple[Block, ...]
    photos: tuple[Photo, ...]
    gallery: tuple[Photo, ...]
    videos: tuple[Video, ...]
    tags: tuple[str, ...]
    related: tuple[Head, ...]
    historical: bool
    last_modified: datetime

    def body_text(self) -> str:
        parts = []
        for block in self.blocks:
            if block.kind == "p":
                parts.append(block.text)
            elif block.kind == "h":
                parts.append(f"## {block.text}")
        return "\n\n".join(parts)


@dataclass
class CorpusOptions:
    seed: int = 1
    articles: int = 300
    mutate_percent: float = 0.0
    new_articles: int = 0
    gone: int = 0
    historical_cutoff: date = DEFAULT_HISTORICAL_CUTOFF
    extra: dict[str, str] = field(default_factory=dict)
    #: ``--era``: one of archiver.replica.eras.ERAS, "mixed", or "" (the default replica)
    era: str = ""


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class Corpus:
    """The articles of one replica run. ``k`` is the age rank: 0 is the oldest article."""

    def __init__(self, options: CorpusOptions) -> None:
        if not 1 <= options.articles <= 1_000_000:
            raise ValueError("articles must be between 1 and 1,000,000")
        if not 0 <= options.mutate_percent <= 100:
            raise ValueError("mutate percent must be between 0 and 100")
        self.options = options
        self.base_size = options.articles
        self.size = options.articles + options.new_articles
        self.id_step = max(2, min(1000, 3_300_000 // self.base_size))
        picked = round(self.base_size * options.mutate_percent / 100)
        if not 0 <= options.gone <= self.base_size - picked:
            raise ValueError("gone must be between 0 and the number of unmutated articles")
        chosen = random.Random(f"{options.seed}:mutate").sample(range(self.base_size), picked + options.gone)
        self.mutated = frozenset(chosen[:picked])
        #: articles removed from the site (404 now), for incremental-crawl tests
        self.removed = frozenset(chosen[picked:])
        self._order = [k for k in range(self.size - 1, -1, -1) if k not in self.removed]
        if options.era and options.era != eras.MIXED and options.era not in eras.ERAS:
            raise ValueError(f"unknown era {options.era!r}")
        self.start, self.end = eras.span_of(options.era) if options.era else (START, END)
        self._span = (self.end - self.start) / max(self.base_size - 1, 1)
        self.head = lru_cache(maxsize=65536)(self._head)
        self.article = lru_cache(maxsize=2048)(self._article)

    # -- identity -------------------------------------------------------------------------------

    def article_id(self, k: int) -> int:
        jitter = random.Random(f"{self.options.seed}:id:{k}").randrange(self.id_step // 2 + 1)
        return FIRST_ID + k * self.id_step + jitter

    def k_for_id(self, article_id: int) -> int | None:
        k = (article_id - FIRST_ID) // self.id_step
        if 0 <= k < self.size and self.article_id(k) == article_id and k not in self.removed:
            return k
        return None

    def removed_k_for_id(self, article_id: int) -> int | None:
        """The rank of a removed article (``--gone``) with that id, else None."""
        k = (article_id - FIRST_ID) // self.id_step
        if 0 <= k < self.size and self.article_id(k) == article_id and k in self.removed:
            return k
        return None

    def published(self, k: int) -> datetime:
        when = self.start + self._span * k if k < self.base_size else \
            self.end + timedelta(days=k - self.base_size + 1)
        return when.replace(second=0, microsecond=0)

    # -- eras (``--era``) --------------------------------------------------------------------------

    def markup_of(self, k: int) -> str:
        """The markup era article ``k`` is served in ("" without ``--era``)."""
        era = self.options.era
        if era == eras.MIXED:
            return eras.era_for(self.published(k).date())
        return era

    def legacy_number(self, k: int) -> int:
        jitter = random.Random(f"{self.options.seed}:legacy:{k}").randrange(eras.LEGACY_STEP)
        return eras.LEGACY_FIRST + k * eras.LEGACY_STEP + jitter

    def k_for_legacy(self, kind: str, number: int) -> int | None:
        """The ASP.NET page ``kind`` number ``number`` (``ReleaseID=10242``), if the site has it."""
        k = (number - eras.LEGACY_FIRST) // eras.LEGACY_STEP
        if not 0 <= k < self.size or k in self.removed or self.legacy_number(k) != number \
                or self.markup_of(k) != "aspnet":
            return None
        return k if self.head(k).legacy_kind == kind else None

    def revision(self, k: int) -> int:
        return 1 if k in self.mutated else 0

    def newest_first(self) -> list[int]:
        """Ranks of the articles on the site, newest first (removed ones left out)."""
        return self._order

    # -- generation -----------------------------------------------------------------------------

    def _rng(self, k: int, part: str) -> random.Random:
        return random.Random(f"{self.options.seed}:{part}:{k}")

    def _head(self, k: int) -> Head:
        ctype, writer = self._type_and_writer(k)
        published = self.published(k)
        markup = self.markup_of(k)
        if markup in {"aspnet", eras.STATIC} and ctype.name not in eras.LEGACY_KINDS:
            ctype = TYPES_BY_NAME["news-story"]  # features were American Forces Press Service articles
        title = _title_for(ctype.name, writer, published)
        summary = writer.sentence()
        if not markup:
            return Head(k, self.article_id(k), ctype, published, title, summary, self.revision(k))
        legacy = self.legacy_number(k) if markup == "aspnet" else k + 1 if markup == eras.STATIC else 0
        return Head(k, self.article_id(k), ctype, published, title, summary, self.revision(k),
                    markup, legacy)

    def _type_and_writer(self, k: int) -> tuple[ContentType, text.Writer]:
        rng = self._rng(k, "head")
        ctype = rng.choices(CONTENT_TYPES, weights=_TYPE_WEIGHTS)[0]
        return ctype, text.Writer(rng)

    def _article(self, k: int) -> Article:
        head = self.head(k)
        rng = self._rng(k, "body")
        writer = self._type_and_writer(k)[1]  # same official/place/topic as the title
        writer.rng = rng
        builder = _BodyBuilder(head, writer, rng)
        blocks = builder.build()
        if head.revision:
            blocks = _edit(blocks, writer)
        authors, org, twitter = _byline(head.ctype.name, rng)
        if twitter:
            blocks.append(Block("twitter", twitter))
        related = tuple(self.head(r) for r in _related_ks(k, rng))
        tags = tuple(rng.sample(text.TAGS, rng.randint(0, 4))) if head.ctype.name != "contract" else ()
        last_modified = head.published + timedelta(hours=2)
        if head.revision:
            last_modified = self.end + timedelta(days=400)
        article = Article(
            head=head,
            authors=authors,
            byline_org=org,
            twitter=twitter,
            presenter=builder.presenter,
            blocks=tuple(b for b in blocks if b.kind != "twitter"),
            photos=tuple(builder.photos),
            gallery=tuple(builder.gallery),
            videos=tuple(builder.videos),
            tags=tags,
            related=related,
            historical=head.published.date() < self.options.historical_cutoff,
            last_modified=last_modified,
        )
        return _in_era(article, writer, self.options.historical_cutoff) if head.markup else article


def _in_era(article: Article, writer: text.Writer, cutoff: date) -> Article:
    """The article as its era's site published it (``--era``): what that markup carried.

    ``aspnet``: no photos, videos, tags, related stories nor Twitter line (the DefenseLink pages
    here show none), an American Forces Press Service byline and dateline (``WASHINGTON, Dec. 1,
    2006 – ...``), no historical notice. ``dnn``: contracts end with ``*Small business`` (as the
    real page does); the skin's historical banner on
    articles before :data:`eras.DNN_HISTORICAL_CUTOFF`. (The contracts' opening bold
    ``CONTRACTS`` line is the section's label: the page shows it, the body does not hold it.)
    """
    head = article.head
    name = head.ctype.name
    published = head.published.date()
    if head.markup == eras.STATIC:
        return _in_static_era(article, writer)
    if head.markup == "aspnet":
        blocks = [b for b in article.blocks if b.kind in {"p", "h"}]
        if name == "news-story" and blocks and blocks[0].kind == "p":
            place = writer.place.split(",")[0].upper() if writer.place != "the Pentagon" else "WASHINGTON"
            blocks[0] = Block("p", f"{place}, {ap_date(published)} – {blocks[0].text}")
        return replace(article, blocks=tuple(blocks), photos=(), gallery=(), videos=(), tags=(),
                       related=(), twitter="", historical=False,
                       byline_org="American Forces Press Service" if article.authors else "")
    if head.markup == "dnn":
        historical = published < eras.DNN_HISTORICAL_CUTOFF
        if name == "contract":
            # the page's bold "CONTRACTS" line above the agencies is the section's label, not text
            framed = (*article.blocks, Block("p", "*Small business"))
            return replace(article, blocks=framed, historical=historical)
        return replace(article, historical=historical)
    return replace(article, historical=published < cutoff)


def _in_static_era(article: Article, writer: text.Writer) -> Article:
    """``defenselink-static``: text only (paragraphs and subheadings: the 1990s pages here carry no
    photos, videos, tags nor related stories), AFPS articles with the byline and a dateline without
    date (``WASHINGTON -- ...``), no historical notice."""
    blocks = [b for b in article.blocks if b.kind in {"p", "h"}]
    if article.head.ctype.name == "news-story" and blocks and blocks[0].kind == "p":
        place = writer.place.split(",")[0].upper() if writer.place != "the Pentagon" else "WASHINGTON"
        blocks[0] = Block("p", f"{place} -- {blocks[0].text}")
    return replace(article, blocks=tuple(blocks), photos=(), gallery=(), videos=(), tags=(), related=(),
                   twitter="", historical=False,
                   byline_org="American Forces Press Service" if article.authors else "")


def _title_for(ctype: str, writer: text.Writer, published: datetime) -> str:
    when = ap_date(published.date())
    if ctype == "contract":
        return f"Contracts For {when}"
    if ctype == "release":
        return writer.rng.choice((
            "DOD Announces {t} Initiative", "Department of Defense Statement on {t}",
            "Readout of {s}'s Meeting on {t}", "DOD Releases Report on {t}",
        )).format(t=writer.topic[1], s=writer.official[1])
    if ctype == "transcript":
        return f"{writer.official[0].split(',')[0]} Holds a Press Briefing on {writer.topic[1]}"
    if ctype == "speech":
        return f"Remarks by {writer.official[0].split(',')[0]} on {writer.topic[1]}"
    if ctype == "advisory":
        return f"{writer.official[0].split(',')[0]} to Travel to {writer.place.split(',')[0]}"
    return writer.title()


class _BodyBuilder:
    """Body blocks, photos and videos for one article, by content type."""

    def __init__(self, head: Head, writer: text.Writer, rng: random.Random) -> None:
        self.head = head
        self.writer = writer
        self.rng = rng
        self.photos: list[Photo] = []
        self.gallery: list[Photo] = []
        self.videos: list[Video] = []
        self.presenter = ""

    def build(self) -> list[Block]:
        name = self.head.ctype.name
        if name == "contract":
            return self._contract()
        if name == "transcript":
            return self._transcript()
        if name == "speech":
            return self._speech()
        if name == "advisory":
            return [Block("p", self.writer.paragraph(1, 2)) for _ in range(self.rng.randint(2, 3))]
        if name == "release":
            return self._release()
        return self._story(feature=name == "feature")

    def _photo(self) -> Photo:
        n = len(self.photos) + len(self.gallery)
        when = self.head.published.date() - timedelta(days=self.rng.randint(0, 3))
        photographer = self.rng.choice(text.PHOTOGRAPHERS)
        caption_core = self.writer.photo_caption(ap_date(when))
        caption = f"{caption_core} DoD photo by {photographer}"
        # "Photo By:" prints the name without the service, sometimes without the rank, as the seed shows
        credit = re.sub(r"^(Air Force|Army|Navy|Marine Corps) ", "", photographer)
        if self.rng.random() < 0.3:
            credit = " ".join(photographer.split()[-3:])
        branch = self.rng.choice("DAFNMZ")
        unit = "".join(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
        virin = f"{when:%y%m%d}-{branch}-{unit}{self.rng.randint(100, 999)}-{self.rng.randint(1, 9999):04d}"
        title = self.rng.choice((
            "Counter-ISIL Conference", "SD visits Iraq", "Press Briefing", "Troop Visit",
            "Bilateral Meeting", "Wreath Laying", "Honor Cordon", "Town Hall",
        ))
        return Photo(
            media_id=2_001_000_000 + self.head.k * 10 + n,
            virin=virin,
            title=title,
            caption=caption,
            credit=credit,
            alt=caption_core,
            published=when,
        )

    def _video(self) -> Video:
        n = self.head.article_id * 10 + len(self.videos)
        title = f"{self.writer.official[1]} " + self.rng.choice((
            "Reviews Coalition Successes", "Discusses Future of the Campaign",
            "Thanks Troops", "Talks Readiness", "Visits Allies",
        ))
        return Video(
            title=title,
            duration=self.rng.randint(15, 240),
            src=f"https://d34w7g4gy10iej.cloudfront.net/video/{self.head.published:%y%m}/DOD_{n}/"
                f"DOD_{n}-1280x720-3000k.mp4",
        )

    def _story(self, *, feature: bool) -> list[Block]:
        rng = self.rng
        blocks = [Block("p", self.writer.paragraph(1, 2))]
        n_photos = rng.choice((0, 1, 1, 2, 2, 3, 4))
        n_videos = rng.choice((0, 0, 0, 1, 1, 2))
        n_paras = rng.randint(5, 14)
        media: list[str] = ["photo"] * n_photos + ["video"] * n_videos
        rng.shuffle(media)
        slots = sorted(rng.sample(range(1, n_paras + 1), min(len(media), n_paras)))
        pending = dict(zip(slots, media, strict=False))
        for i in range(1, n_paras + 1):
            if i in pending:
                if pending[i] == "photo":
                    self.photos.append(self._photo())
                    blocks.append(Block("photo", index=len(self.photos) - 1))
                else:
                    self.videos.append(self._video())
                    blocks.append(Block("video", index=len(self.videos) - 1))
            if i > 2 and rng.random() < 0.15:
                blocks.append(Block("h", self.writer.subheading()))
            blocks.append(Block("p", self.writer.paragraph()))
        if feature or rng.random() < 0.1:
            for _ in range(rng.randint(3, 6)):
                self.gallery.append(self._photo())  # one at a time: each gets its own media id
        return blocks

    def _release(self) -> list[Block]:
        blocks = [Block("p", self.rng.choice(text.release_paragraphs()))]
        blocks += [Block("p", self.writer.paragraph(2, 3)) for _ in range(self.rng.randint(1, 4))]
        if self.rng.random() < 0.2:
            self.photos.append(self._photo())
            blocks.insert(1, Block("photo", index=0))
        return blocks

    def _contract(self) -> list[Block]:
        pool = text.contract_paragraphs()
        blocks: list[Block] = []
        for agency in self.rng.sample(text.AGENCIES, self.rng.randint(1, 4)):
            blocks.append(Block("h", agency))
            blocks += [Block("p", p) for p in self.rng.sample(pool, self.rng.randint(1, 4))]
        return blocks

    def _transcript(self) -> list[Block]:
        official = self.writer.official
        self.presenter = official[0]
        blocks = [Block("p", f"{official[2]}: " + self.writer.paragraph(2, 4))]
        for _ in range(self.rng.randint(2, 6)):
            blocks.append(Block("p", self.writer.fill(self.rng.choice(text.QUESTION_TEMPLATES))))
            blocks.append(Block("p", f"{official[2]}: " + self.writer.paragraph(1, 3)))
        if self.rng.random() < 0.5:
            blocks.append(Block("p", "STAFF: Thank you, everyone."))
        return blocks

    def _speech(self) -> list[Block]:
        self.presenter = self.writer.official[0]
        blocks = [Block("p", self.writer.fill(self.rng.choice(text.SPEECH_OPENERS)))]
        for i in range(self.rng.randint(4, 9)):
            if i and self.rng.random() < 0.15:
                blocks.append(Block("h", self.writer.subheading()))
            blocks.append(Block("p", self.writer.paragraph(2, 4)))
        return blocks


def _edit(blocks: list[Block], writer: text.Writer) -> list[Block]:
    """Revision 1 of an article: the first paragraph is rewritten and a paragraph is added."""
    edited = list(blocks)
    for i, block in enumerate(edited):
        if block.kind == "p":
            edited[i] = Block("p", f"{block.text} {writer.fill(text.STORY_TEMPLATES[0])}")
            break
    edited.append(Block("p", "Editor's note: This article was updated with additional details."))
    return edited


def _byline(ctype: str, rng: random.Random) -> tuple[tuple[str, ...], str, str]:
    if ctype not in {"news-story", "feature"}:
        return (), "", ""
    name, handle = rng.choice(text.AUTHORS)
    authors: tuple[str, ...] = (name,)
    if rng.random() < 0.08:
        second = rng.choice(text.AUTHORS)[0]
        if second != name:
            authors = (name, second)
    twitter = f"(Follow {name} on Twitter: @{handle})" if handle and rng.random() < 0.7 else ""
    return authors, rng.choice(text.ORGS), twitter


def _related_ks(k: int, rng: random.Random) -> list[int]:
    if k == 0 or rng.random() < 0.35:
        return []
    count = min(k, rng.randint(1, 3))
    return sorted(rng.sample(range(max(0, k - 50), k), count), reverse=True)


def ap_date(d: date) -> str:
    """AP style date as defense.gov prints it: ``Dec. 15, 2016``, ``May 3, 2020``, ``Sept. 30``."""
    months = ("Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.",
              "Nov.", "Dec.")
    return f"{months[d.month - 1]} {d.day}, {d.year}"


def truth_record(article: Article, base_url: str) -> dict[str, object]:
    """The cleaned record extraction must produce for ``article`` (schema of DESIGN.md)."""
    head = article.head
    url = base_url.rstrip("/") + head.path
    return {
        "url": url,
        "canonical_url": url,
        "article_id": str(head.article_id),
        "content_type": head.ctype.name,
        "title": head.title,
        "published": head.published.date().isoformat(),
        "authors": list(article.authors),
        "body": article.body_text(),
        "images": [_photo_record(p, base_url) for p in (*article.photos, *article.gallery)],
        "videos": [{"title": v.title, "duration": v.duration, "src": v.src} for v in article.videos],
        "tags": list(article.tags),
        "related": [{"title": r.title, "url": base_url.rstrip("/") + r.path} for r in article.related],
        "historical": article.historical,
        "source": {"archive": "live"},  # the replica is a live site
        "replica": {"k": head.k, "revision": head.revision, "era": head.era},
    } | (_era_fields(article, url) if head.markup else DEFAULT_ERA_FIELDS)


#: the default replica's pages (both of its markups) are the war.gov skeleton's: DGOV2 markup on war.gov
DEFAULT_ERA_FIELDS: dict[str, object] = {"markup_era": "wargov", "legacy_id": None}


def _era_fields(article: Article, url: str) -> dict[str, object]:
    """Truth fields of an ``--era`` page: ``markup_era``, legacy ids, the canonical URL it prints."""
    head = article.head
    fields: dict[str, object] = {"markup_era": head.markup, "legacy_id": None}
    if head.markup == "aspnet":
        fields["article_id"] = f"{head.legacy_kind}:{head.legacy_number}"
        fields["legacy_id"] = {"kind": head.legacy_kind, "number": str(head.legacy_number)}
    if head.markup == eras.STATIC:
        path = head.path.lower()  # (the id reads the path in lower case: the server ignores case)
        fields["article_id"] = f"static:{path}"
        fields["legacy_id"] = {"kind": "static", "number": None, "path": path}
    # (the DNN skin's og:url of a page without slug ends ``/<id>//``: the record's canonical_url
    # has the repeated slash collapsed, the fetched URL)
    return fields


def media_base(base_url: str) -> str:
    """Where the replica's images live for a site base URL (media.defense.gov on real names)."""
    scheme, _, rest = base_url.partition("://")
    host = rest.split("/")[0].split(":")[0]
    if host.endswith(("defense.gov", "war.gov")):
        return f"{scheme}://media.defense.gov"
    return base_url.rstrip("/")


def _photo_record(photo: Photo, base_url: str) -> dict[str, str]:
    return {
        "src": media_base(base_url) + photo.path(),
        "title": photo.title,
        "caption": photo.caption,
        "credit": photo.credit,
        "virin": photo.virin,
        "alt": photo.alt,
    }
