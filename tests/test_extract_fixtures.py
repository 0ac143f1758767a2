"""Fixture cases (``tests/fixtures/<page-type>/<case>/``): one test per case and field.

A broken date fails ``…-published`` alone and leaves ``…-title`` green. To change an expectation
on purpose: ``python -m archiver.offline.fixtures diff CASE``, then ``update CASE``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from archiver.extract import EXTRACTOR_VERSION
from archiver.offline.fixtures import FIXTURE_FIELDS, FixtureCase, cases
from pipelines.chain import extract_record

ALL = cases()
ARTICLES = [c for c in ALL if isinstance(c.expected(), dict) and "rejected" not in (c.expected() or {})]
NOT_ARTICLES = [c for c in ALL if c.expected() is None]
REJECTED = [c for c in ALL if isinstance(c.expected(), dict) and "rejected" in (c.expected() or {})]


@cache
def actual(case: FixtureCase) -> dict[str, Any] | None:
    return case.actual()


def test_fixtures_cover_every_content_type_and_era() -> None:
    names = {c.name for c in ARTICLES}
    for page_type in ("news-story", "release", "transcript", "speech", "contract", "feature", "advisory"):
        for era in ("legacy", "modern"):
            assert any(n.startswith(f"{page_type}/replica-{era}-") for n in names), (page_type, era)
    assert {"release/real-3981590", "contract/real-4319114"} <= names


@pytest.mark.parametrize(("case", "field"), [(c, f) for c in ARTICLES for f in FIXTURE_FIELDS],
                         ids=[f"{c.name}-{f}" for c in ARTICLES for f in FIXTURE_FIELDS])
def test_field(case: FixtureCase, field: str) -> None:
    got = actual(case)
    assert got is not None, "extraction found no article"
    expected = case.expected()
    assert expected is not None
    assert got.get(field) == expected[field]


@pytest.mark.parametrize("case", ARTICLES, ids=[c.name for c in ARTICLES])
def test_extractor_version_is_stamped(case: FixtureCase) -> None:
    info = case.info()
    record = extract_record(info["url"], case.body(), info.get("headers"), info.get("fetched_at", ""))
    assert record is not None
    assert record["extractor_version"] == EXTRACTOR_VERSION
    assert record["warc"] is None


@pytest.mark.parametrize("case", NOT_ARTICLES, ids=[c.name for c in NOT_ARTICLES])
def test_not_an_article_page(case: FixtureCase) -> None:
    assert actual(case) is None


@pytest.mark.parametrize("case", REJECTED, ids=[c.name for c in REJECTED])
def test_bad_input_is_rejected_with_its_reason(case: FixtureCase) -> None:
    assert actual(case) == case.expected()
