"""Quality floors, pinned just under the numbers measured by benchmarks/extraction.py.

The benchmark measured on the replica and the real pages: body F1 1.0000, no caption text and no
chrome in any body, photos exact 100 %, title / date / authors exact 100 %. A change that makes
any of these drop fails CI instead of silently shipping.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from archiver.replica.process import RunningReplica
from benchmarks.extraction import Page, Score, fetch, ours, real_pages, score


@pytest.fixture(scope="module")
def quality(replica300: RunningReplica) -> dict[str, Score]:
    truth = replica300.truth()
    with ThreadPoolExecutor(8) as pool:
        fetched = list(pool.map(fetch, [t["url"] for t in truth]))
    pages = [Page(t["url"], body, headers, t) for t, (body, headers) in zip(truth, fetched, strict=True)]
    extractor = ours()
    return {"replica": score(extractor, pages, min_runs=1),
            "real": score(extractor, real_pages(), min_runs=1)}


@pytest.mark.parametrize("corpus", ["replica", "real"])
def test_body_f1_floor(quality: dict[str, Score], corpus: str) -> None:
    result = quality[corpus]
    assert result.f1 / result.pages >= 0.995


@pytest.mark.parametrize("corpus", ["replica", "real"])
def test_no_caption_or_chrome_in_bodies(quality: dict[str, Score], corpus: str) -> None:
    assert quality[corpus].caption_pages == 0
    assert quality[corpus].chrome_pages == 0


def test_photos_exact_floor(quality: dict[str, Score]) -> None:
    result = quality["replica"]
    assert result.photo_pages > 50
    assert result.photos_exact / result.photo_pages >= 0.99


@pytest.mark.parametrize("corpus", ["replica", "real"])
def test_title_date_authors_exact(quality: dict[str, Score], corpus: str) -> None:
    result = quality[corpus]
    assert (result.title, result.date, result.authors) == (result.pages,) * 3
