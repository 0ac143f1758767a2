"""The validation pipeline's compiled quick check never accepts what the schema rejects."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from pipelines.validate import article_schema, article_validator, compile_check, problems, quick_check

VALID: dict[str, Any] = {
    "url": "https://www.defense.gov/News/News-Stories/Article/Article/1030001/x/",
    "canonical_url": "https://www.defense.gov/News/News-Stories/Article/Article/1030001/x/",
    "article_id": "1030001",
    "content_type": "news-story",
    "title": "A title",
    "published": "2016-12-15",
    "authors": ["Jim Garamone"],
    "body": "One paragraph.\n\nAnother.",
    "images": [{"src": "https://media.defense.gov/a.JPG", "title": "t", "caption": "c", "credit": "x",
                "virin": "161215-D-GO396-0207", "alt": "a"}],
    "videos": [{"title": "v", "duration": 33, "src": "https://example.mil/v.mp4"}],
    "tags": ["Readiness"],
    "related": [{"title": "r", "url": "https://www.defense.gov/r/"}],
    "historical": False,
    "fetched_at": "2024-05-06T07:08:09Z",
    "warc": {"filename": "a.warc.gz", "offset": 0, "length": 10, "record_id": "<urn:uuid:1>",
             "payload_digest": "sha1:X"},
    "extractor_version": "1.0.0",
    "change": "new",
    "markup_era": "dgov2",
    "legacy_id": None,
    "source": {"archive": "wayback", "timestamp": "20240506070809", "captured_at": "2024-05-06T07:08:09Z",
               "capture_url": "https://web.archive.org/web/20240506070809id_/https://www.defense.gov/x/",
               "original_url": "https://www.defense.gov/x/"},
}
#: values that break (or, for some fields, keep) the schema's rules
ODD_VALUES: list[Any] = [None, True, False, 0, 1, -1, 1.0, 2.5, "", " ", "x", "2016-13-99", "123", [], [""],
                         ["a", 1], {}, {"title": 1}, "updated", "other"]


def mutations(seed: int, count: int) -> list[dict[str, Any]]:
    """Records with one or two fields (or nested fields) replaced, dropped or added."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        record = copy.deepcopy(VALID)
        for _ in range(rng.randint(1, 2)):
            target: Any = record
            key: Any = rng.choice(list(record))
            if isinstance(record[key], list) and record[key] and rng.random() < 0.5:
                target, key = record[key], 0
                if isinstance(target[0], dict) and rng.random() < 0.7:
                    target, key = target[0], rng.choice(list(target[0]))
            elif isinstance(record[key], dict) and record[key] and rng.random() < 0.7:
                target, key = record[key], rng.choice(list(record[key]))
            if isinstance(target, dict) and rng.random() < 0.15:
                del target[key]
            else:
                target[key] = rng.choice(ODD_VALUES)
        out.append(record)
    return out


def test_the_schema_compiles() -> None:
    assert quick_check() is not None


def test_a_valid_record_passes_the_quick_check() -> None:
    check = quick_check()
    assert check is not None
    assert check(VALID)
    assert not list(article_validator().iter_errors(VALID))


@pytest.mark.parametrize("seed", range(4))
def test_quick_check_accepts_what_the_schema_accepts(seed: int) -> None:
    """Not stricter than it must be: a record the schema accepts (``warc`` null, say, when a crawl
    writes no WARC) skips jsonschema's slow walk, except integer-valued floats (documented)."""
    check = quick_check()
    assert check is not None
    assert check({**VALID, "warc": None})
    accepted = [r for r in mutations(seed, 500) if not list(article_validator().iter_errors(r))]
    assert accepted
    for record in accepted:
        assert check(record) or _has_integral_float(record), record


def _has_integral_float(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, dict):
        return any(_has_integral_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_integral_float(v) for v in value)
    return False


@pytest.mark.parametrize("seed", range(4))
def test_quick_check_accepts_only_what_the_schema_accepts(seed: int) -> None:
    check = quick_check()
    assert check is not None
    for record in mutations(seed, 500):
        if check(record):
            assert not list(article_validator().iter_errors(record)), record


def test_problems_are_the_schema_errors_whenever_the_quick_check_fails() -> None:
    record = copy.deepcopy(VALID)
    record["published"] = "Dec. 15, 2016"
    assert problems(record) == [("published", "'Dec. 15, 2016' does not match "
                                 + repr(article_schema()["properties"]["published"]["pattern"]))]


def test_an_empty_body_is_a_problem_even_when_the_schema_accepts_it() -> None:
    record = {**VALID, "body": "  "}
    assert problems(record) == [("body", "empty (no paragraph left after cleaning)")]


def test_a_keyword_the_check_does_not_cover_leaves_validation_to_jsonschema() -> None:
    assert compile_check({"type": "object", "additionalProperties": False}) is None
    assert compile_check({"type": "string", "format": "date"}) is None
    assert compile_check({"enum": [1, 2]}) is None
