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


# -- every markup era (``archiver replica --era``) ------------------------------------------------------

ERAS = ("defenselink-static", "aspnet", "dnn", "dgov2", "wargov")
#: record fields that must be exact on every page of every era
ERA_FIELDS = ("content_type", "historical", "markup_era", "article_id")


@pytest.fixture(scope="module")
def era_quality(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Score]:
    """Scores on a 60-article replica of each era, and on the real pages of each era."""
    from benchmarks.extraction import era_corpora

    extractor = ours()
    corpora = era_corpora(60, 5)
    scores = {}
    for title, pages in corpora.items():
        era = title.split("--era ")[1].split(":")[0] if title.startswith("replica") else \
            "real-" + title.split("(")[1].split(")")[0]
        scores[era] = score(extractor, pages, min_runs=1)
    return scores


@pytest.mark.parametrize("era", ERAS)
def test_era_body_f1_floor(era_quality: dict[str, Score], era: str) -> None:
    result = era_quality[era]
    assert result.pages >= 60
    assert result.f1 / result.pages >= 0.995


@pytest.mark.parametrize("era", ERAS)
def test_era_no_caption_or_chrome_in_bodies(era_quality: dict[str, Score], era: str) -> None:
    assert (era_quality[era].caption_pages, era_quality[era].chrome_pages) == (0, 0)


@pytest.mark.parametrize("era", ERAS)
def test_era_title_date_authors_and_fields_exact(era_quality: dict[str, Score], era: str) -> None:
    result = era_quality[era]
    assert (result.title, result.date, result.authors) == (result.pages,) * 3
    assert {name: result.fields[name] for name in ERA_FIELDS} == dict.fromkeys(ERA_FIELDS, result.pages)


def test_real_pages_of_every_era_score(era_quality: dict[str, Score]) -> None:
    real = {era: s for era, s in era_quality.items() if era.startswith("real-")}
    assert real
    for result in real.values():
        assert result.f1 / result.pages >= 0.995
        assert (result.caption_pages, result.chrome_pages) == (0, 0)
        assert (result.title, result.date, result.authors) == (result.pages,) * 3
