"""The whole 300-article replica (both eras, every content type): every field equals the truth."""

from __future__ import annotations

import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from archiver.extract import extract_article
from archiver.extract.text import CHROME_PHRASES
from archiver.replica.process import RunningReplica
from pipelines.chain import PipelineChain

FIELDS = ("url", "canonical_url", "article_id", "content_type", "title", "published", "authors", "body",
          "images", "videos", "tags", "related", "historical")


def _fetch(url: str) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), dict(response.headers.items())


@pytest.fixture(scope="module")
def corpus(replica300: RunningReplica) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(truth, record) for every article of the replica, through extraction + the pipeline chain."""
    truth = replica300.truth()
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(_fetch, [t["url"] for t in truth]))
    chain = PipelineChain.build()
    pairs = []
    for expected, (body, headers) in zip(truth, pages, strict=True):
        item = extract_article(expected["url"], body, headers, "2025-11-01T12:00:00Z")
        assert item is not None, expected["url"]
        pairs.append((expected, chain.process(item).record()))
    return pairs


def test_corpus_has_both_eras_and_every_type(corpus: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    kinds = {(t["content_type"], t["replica"]["era"]) for t, _ in corpus}
    assert len(kinds) == 14


@pytest.mark.parametrize("field", FIELDS)
def test_field_equals_truth_for_every_article(field: str,
                                             corpus: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    wrong = [(t["url"], r[field], t[field]) for t, r in corpus if r[field] != t[field]]
    assert not wrong, f"{len(wrong)} of {len(corpus)} differ; first: {wrong[0]}"


def test_no_caption_text_in_any_body(corpus: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    leaks = [(r["url"], image[key]) for _, r in corpus for image in r["images"]
             for key in ("caption", "alt") if image[key] and image[key] in r["body"]]
    assert not leaks


@pytest.mark.parametrize("phrase", CHROME_PHRASES)
def test_no_chrome_phrase_in_any_body(phrase: str,
                                      corpus: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    assert not [r["url"] for _, r in corpus if phrase in r["body"]]


def test_fetched_at_and_version_are_stamped(corpus: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    assert {r["fetched_at"] for _, r in corpus} == {"2025-11-01T12:00:00Z"}
    assert len({r["extractor_version"] for _, r in corpus}) == 1
