"""Extraction quality and speed: our extractor + pipelines vs trafilatura on the same HTML.

Run on demand (not in CI)::

    python -m benchmarks.extraction                  # 600-article replica + the real fixtures
    python -m benchmarks.extraction --articles 2000 --seed 3 --no-trafilatura
    python -m benchmarks.extraction --eras --no-trafilatura   # also per markup era (replica --era)

trafilatura is optional (``pip install trafilatura==2.3.1 lxml_html_clean``). Metrics per corpus:
body F1 over word 4-gram shingles (as the Article Extraction Benchmark scores bodies), pages whose
body contains any caption text of the page's photos, pages whose body contains a chrome phrase,
photos exact (caption + credit + VIRIN, as a list), title / date / authors exact, pages per second
and the speed ratio; with ``--eras``, the same per markup era (``aspnet``, ``dnn``, ``dgov2``,
``wargov``: a replica of each, and the real pages of each era among the fixture cases) with the
record fields ``content_type``, ``historical``, ``markup_era``, ``article_id`` exact. Numbers go in
``docs/extraction.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.extract import extract_article
from archiver.extract.text import CHROME_PHRASES, collapse_space
from archiver.replica.process import replica
from pipelines.chain import PipelineChain

REAL_CASES = ("release/real-3981590", "contract/real-4319114", "release/real-defenselink-10242",
              "contract/real-dnn-605989", "release/real-dgov2-2411893", "release/real-wayback-2853121")
#: record fields scored per era (``--eras``): exact match with the truth
FIELD_NAMES = ("content_type", "historical", "markup_era", "article_id")
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
SHINGLE = 4


@dataclass
class Page:
    url: str
    body: bytes
    headers: dict[str, str]
    truth: dict[str, Any]


@dataclass
class Output:
    """What an extractor made of a page, in comparable form."""

    body: str = ""
    title: str = ""
    published: str = ""
    authors: list[str] = field(default_factory=list)
    photos: list[tuple[str, str, str]] | None = None  # None: the extractor has no structured photos
    #: record fields compared exactly with ``--eras`` (absent: the extractor does not give them)
    fields: dict[str, Any] = field(default_factory=dict)


Extractor = Callable[[Page], Output]


# -- extractors --------------------------------------------------------------------------------------


def ours() -> Extractor:
    """Extraction + every pipeline of a crawl (validation included; pages are extracted repeatedly
    for timing, so the duplicate drop is off)."""
    from pipelines.rejections import ArticleDropped

    chain = PipelineChain.build({"ARCHIVER_DROP_DUPLICATES": False})

    def run(page: Page) -> Output:
        item = extract_article(page.url, page.body, page.headers)
        if item is None:
            return Output()
        try:
            record = chain.process(item).record()
        except ArticleDropped:
            return Output()
        photos = [(i["caption"], i["credit"], i["virin"]) for i in record["images"]]
        fields = {name: record.get(name) for name in FIELD_NAMES}
        return Output(record["body"], record["title"], record["published"], record["authors"], photos, fields)

    return run


def trafilatura_extractor() -> Extractor | None:
    try:
        import trafilatura
    except ImportError:
        return None

    def run(page: Page) -> Output:
        doc = trafilatura.bare_extraction(page.body, url=page.url, with_metadata=True)
        if doc is None:
            return Output()
        data = doc if isinstance(doc, dict) else doc.as_dict()
        authors = [a.strip() for a in (data.get("author") or "").split(";") if a.strip()]
        return Output(data.get("text") or "", data.get("title") or "", data.get("date") or "", authors)

    return run


# -- metrics -----------------------------------------------------------------------------------------


def shingles(text: str) -> Counter[tuple[str, ...]]:
    words = text.replace("## ", " ").lower().split()
    return Counter(tuple(words[i:i + SHINGLE]) for i in range(max(0, len(words) - SHINGLE + 1)))


def f1(predicted: str, truth: str) -> float:
    got, want = shingles(predicted), shingles(truth)
    if not got or not want:
        return float(got == want)
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


@dataclass
class Score:
    pages: int = 0
    f1: float = 0.0
    caption_pages: int = 0
    chrome_pages: int = 0
    photos_exact: int = 0
    photo_pages: int = 0
    title: int = 0
    date: int = 0
    authors: int = 0
    seconds: float = 0.0
    structured_photos: bool = True
    #: exact hits per record field of FIELD_NAMES the truth has
    fields: Counter[str] = field(default_factory=Counter)

    def add(self, out: Output, truth: dict[str, Any]) -> None:
        body = collapse_space(out.body)
        self.pages += 1
        self.f1 += f1(out.body, truth["body"])
        captions = [i["caption"] for i in truth["images"] if i["caption"]]
        self.caption_pages += any(c in body for c in captions)
        self.chrome_pages += any(p in body for p in CHROME_PHRASES)
        self.structured_photos = out.photos is not None
        want = [(i["caption"], i["credit"], i["virin"]) for i in truth["images"]]
        if want:
            self.photo_pages += 1
            self.photos_exact += out.photos == want
        self.title += out.title == truth["title"]
        self.date += out.published[:10] == truth["published"][:10]
        self.authors += out.authors == truth["authors"]
        for name in FIELD_NAMES:
            if name in truth:
                self.fields[name] += out.fields.get(name, _ABSENT) == truth[name]

    def row(self) -> dict[str, str]:
        n = max(self.pages, 1)
        photos = "n/a"
        if self.structured_photos and self.photo_pages:
            photos = f"{100 * self.photos_exact / self.photo_pages:.1f} %"
        return {
            "body F1 (4-gram)": f"{self.f1 / n:.4f}",
            "pages with caption text in body": f"{self.caption_pages} ({100 * self.caption_pages / n:.1f} %)",
            "pages with chrome in body": f"{self.chrome_pages} ({100 * self.chrome_pages / n:.1f} %)",
            f"photos exact ({self.photo_pages} pages)": photos,
            "title exact": f"{100 * self.title / n:.1f} %",
            "date exact": f"{100 * self.date / n:.1f} %",
            "authors exact": f"{100 * self.authors / n:.1f} %",
            **{f"{name} exact": f"{100 * self.fields[name] / n:.1f} %" for name in FIELD_NAMES
               if name in self.fields},
            "pages/s": f"{self.pages / self.seconds:.0f}" if self.seconds else "-",
        }


def score(extractor: Extractor, pages: Sequence[Page], min_runs: int = 100) -> Score:
    """Quality from one run over ``pages``; speed over at least ``min_runs`` page extractions
    (a small corpus is repeated, after one warm-up pass)."""
    result = Score()
    outputs = [extractor(page) for page in pages]
    for page, out in zip(pages, outputs, strict=True):
        result.add(out, page.truth)
    rounds = max(1, -(-min_runs // len(pages)))
    start = time.perf_counter()
    for _ in range(rounds):
        for page in pages:
            extractor(page)
    result.seconds = (time.perf_counter() - start) / rounds
    return result


# -- corpora -----------------------------------------------------------------------------------------


def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=60) as response:  # the local replica only
        return response.read(), dict(response.headers.items())


def replica_pages(articles: int, seed: int, era: str = "") -> list[Page]:
    """Every article page of a replica (of one markup era with ``era``) with its truth."""
    era_args = ("--era", era) if era else ()
    with tempfile.TemporaryDirectory(prefix="bench-extraction-") as tmp, \
            replica("--articles", str(articles), "--seed", str(seed), "--crawl-delay", "0", *era_args,
                    truth_dir=Path(tmp)) as running:
        truth = running.truth()
        with ThreadPoolExecutor(8) as pool:
            fetched = list(pool.map(fetch, [t["url"] for t in truth]))
    return [Page(t["url"], body, headers, t) for t, (body, headers) in zip(truth, fetched, strict=True)]


def real_pages(cases: Sequence[str] = REAL_CASES) -> list[Page]:
    pages = []
    for name in cases:
        folder = FIXTURES / name
        info = json.loads((folder / "info.json").read_text("utf-8"))
        truth = json.loads((folder / "output.json").read_text("utf-8"))
        pages.append(Page(info["url"], (folder / "body.html").read_bytes(), info.get("headers") or {}, truth))
    return pages


def real_cases_by_era() -> dict[str, list[str]]:
    """Real-page fixture cases (``<type>/real-*``) per markup era: their ``output.json``'s
    ``markup_era``, else ``wargov`` (the war.gov pages saved in 2025)."""
    by_era: dict[str, list[str]] = {}
    for output in sorted(FIXTURES.glob("*/real-*/output.json")):
        truth = json.loads(output.read_text("utf-8"))
        if not isinstance(truth, dict) or truth.get("content_type") in (None, "other") \
                or not (output.parent / "body.html").exists():
            continue  # not an article (a home page): nothing to score
        case = f"{output.parent.parent.name}/{output.parent.name}"
        by_era.setdefault(truth.get("markup_era") or "wargov", []).append(case)
    return by_era


def era_corpora(articles: int, seed: int) -> dict[str, list[Page]]:
    """``--eras``: a replica of each markup era, then the real pages of each era."""
    from archiver.replica.eras import ERAS

    corpora = {f"replica --era {era}: {articles} articles, seed {seed}": replica_pages(articles, seed, era)
               for era in ERAS}
    for era, cases in real_cases_by_era().items():
        corpora[f"real pages ({era}): {', '.join(cases)}"] = real_pages(cases)
    return corpora


_ABSENT = object()


# -- report ------------------------------------------------------------------------------------------


def table(title: str, scores: dict[str, Score]) -> str:
    names = list(scores)
    rows = {name: s.row() for name, s in scores.items()}
    metrics = list(next(iter(rows.values())))
    width = max(len(m) for m in metrics) + 2
    lines = [title, " " * width + "".join(f"{n:>22}" for n in names)]
    lines += [f"{m:<{width}}" + "".join(f"{rows[n][m]:>22}" for n in names) for m in metrics]
    if len(names) == 2 and all(s.seconds for s in scores.values()):
        first, second = (scores[n] for n in names)
        ratio = (first.pages / first.seconds) / (second.pages / second.seconds)
        lines.append(f"{'speed ratio':<{width}}{names[0]} is {ratio:.1f}x {names[1]}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.extraction", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=600, help="replica corpus size (default: 600)")
    parser.add_argument("--seed", type=int, default=11, help="replica seed (default: 11)")
    parser.add_argument("--no-trafilatura", action="store_true", help="score our extractor only")
    parser.add_argument("--eras", action="store_true",
                        help="also score a replica of each markup era and the real pages of each era")
    args = parser.parse_args(argv)
    if args.articles < 500:
        parser.error("--articles must be at least 500")
    extractors: dict[str, Extractor] = {"archiver": ours()}
    other = None if args.no_trafilatura else trafilatura_extractor()
    if other is not None:
        extractors["trafilatura 2.3.1"] = other
    elif not args.no_trafilatura:
        print("trafilatura not importable: scoring our extractor only", file=sys.stderr)
    corpora = {
        f"replica: {args.articles} articles, seed {args.seed}": replica_pages(args.articles, args.seed),
        f"real pages: {', '.join(REAL_CASES)}": real_pages(),
    }
    if args.eras:
        corpora.update(era_corpora(args.articles, args.seed))
    for title, pages in corpora.items():
        scores = {name: score(extractor, pages) for name, extractor in extractors.items()}
        print(table(title, scores))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
