"""Extraction of every era's replica pages (``archiver replica --era``) equals the replica's truth."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import pytest

from archiver.extract import extract_article
from archiver.extract.chain import PipelineChain
from archiver.replica import eras
from archiver.replica.process import replica
from benchmarks.extraction import fetch

FIELDS = ("body", "title", "published", "content_type", "historical", "authors", "markup_era", "article_id",
          "legacy_id", "url", "canonical_url", "images", "videos", "tags", "related")
Pairs = list[tuple[dict[str, Any], dict[str, Any] | None]]


@pytest.fixture(scope="module")
def era_pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pairs]:
    """(truth, extracted record or None) for every article of a 60-article replica of each era."""
    chain = PipelineChain.build({"ARCHIVER_DROP_DUPLICATES": False})
    pairs: dict[str, Pairs] = {}
    with ExitStack() as stack:
        for era in eras.ERAS:
            running = stack.enter_context(replica("--articles", "60", "--seed", "5", "--crawl-delay", "0",
                                                  "--era", era, truth_dir=tmp_path_factory.mktemp(era)))
            truth = running.truth()
            with ThreadPoolExecutor(4) as pool:
                pages = list(pool.map(fetch, [t["url"] for t in truth]))
            pairs[era] = []
            for expected, (body, headers) in zip(truth, pages, strict=True):
                item = extract_article(expected["url"], body, headers, "2025-11-01T12:00:00Z")
                pairs[era].append((expected, None if item is None else chain.process(item).record()))
    return pairs


@pytest.mark.parametrize("era", eras.ERAS)
def test_every_page_of_the_era_extracts(era_pairs: dict[str, Pairs], era: str) -> None:
    missing = [t["url"] for t, r in era_pairs[era] if r is None]
    assert not missing


#: extractor gaps reported to the lead (archiver/extract/ is another helper's): strict, so the mark
#: must go once the extractor is fixed
KNOWN_GAPS: dict[tuple[str, str], str] = {}
ERA_FIELDS = [pytest.param(era, name, id=f"{era}-{name}",
                           marks=[pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[era, name])]
                           if (era, name) in KNOWN_GAPS else [])
              for era in eras.ERAS for name in FIELDS]


@pytest.mark.parametrize(("era", "field"), ERA_FIELDS)
def test_field_equals_truth(era_pairs: dict[str, Pairs], era: str, field: str) -> None:
    wrong = [(t["url"], r.get(field), t[field]) for t, r in era_pairs[era]
             if r is not None and r.get(field) != t[field]]
    assert not wrong, f"{len(wrong)} of {len(era_pairs[era])} differ; first: {wrong[0]}"


#: the 1990s pages' furniture: letterhead, number and phone lines, release flag, end mark, links
STATIC_FURNITURE = ("DefenseLINK", "OFFICE OF ASSISTANT SECRETARY", "IMMEDIATE RELEASE", "(703)", "-END-",
                    "Presenter:", "MEMORANDUM FOR CORRESPONDENTS", "Remarks as Delivered", "Previous Month")


def test_static_furniture_stays_out_of_the_body(era_pairs: dict[str, Pairs]) -> None:
    pairs = [(t, r) for t, r in era_pairs[eras.STATIC] if r is not None]
    assert {t["content_type"] for t, _ in pairs} == set(eras.STATIC_KINDS)
    for truth, record in pairs:
        found = [f for f in STATIC_FURNITURE if f in record["body"]]
        assert not found, truth["url"]
        assert not record["body"].startswith(truth["title"].upper())
        assert not any(f"By {name}" in record["body"] for name in truth["authors"])


def test_static_windows_1252_pages_decode_right(era_pairs: dict[str, Pairs]) -> None:
    """Odd numbers declare ISO-8859-1 (read as windows-1252), even ones nothing: curly quotes and
    dashes come out as written either way."""
    typographic = [(t, r) for t, r in era_pairs[eras.STATIC] if r is not None and not t["body"].isascii()]
    # the page's number is its rank + 1: odd ones carry the <META> charset
    assert {(t["replica"]["k"] + 1) % 2 for t, _ in typographic} == {0, 1}
    for truth, record in typographic:
        assert record["body"] == truth["body"], truth["url"]
        assert "\ufffd" not in record["body"]
        assert "â€" not in record["body"]  # UTF-8 read of windows-1252, or the reverse
