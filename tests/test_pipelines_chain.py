"""Validation, duplicate drops, and the chain that runs the same pipelines outside Scrapy."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from archiver.exceptions import SkippedItem
from archiver.extract import extract_article
from archiver.items import ArticleItem, Block
from pipelines.base import DictStats
from pipelines.chain import PIPELINE_ORDER, PipelineChain, load_class
from pipelines.duplicates import DropDuplicatesPipeline
from pipelines.rejections import ArticleRejected, ArticleSkipped
from pipelines.validate import ValidateSchemaPipeline

FIXTURE = Path(__file__).parent / "fixtures" / "news-story" / "replica-legacy-1089225"


def valid_item(url: str = "https://www.defense.gov/News/News-Stories/Article/Article/1/x/") -> ArticleItem:
    return ArticleItem(url=url, canonical_url=url, article_id="1", content_type="news-story", title="T",
                       published="2016-12-15", body="Text.", extractor_version="1")


def fixture_item() -> ArticleItem:
    import json
    info = json.loads((FIXTURE / "info.json").read_text("utf-8"))
    body = (FIXTURE / "body.html").read_bytes()
    found = extract_article(info["url"], body, info["headers"], info["fetched_at"])
    assert found is not None
    return found


def test_valid_record_passes_and_is_counted() -> None:
    stats = DictStats()
    item = valid_item()
    assert ValidateSchemaPipeline(stats).process_item(item) is item
    assert stats.get_value("archiver/validate/valid") == 1


@pytest.mark.parametrize(("change", "field"), [
    ({"title": ""}, "title"),
    ({"published": "Dec. 15, 2016"}, "published"),
    ({"article_id": "abc"}, "article_id"),
    ({"content_type": "blog"}, "content_type"),
    ({"body": ""}, "body"),
    ({"images": [{"src": "x"}]}, "images"),
])
def test_invalid_record_is_dropped_with_its_reason(change: dict[str, object], field: str) -> None:
    stats = DictStats()
    item = valid_item()
    for name, value in change.items():
        setattr(item, name, value)
    with pytest.raises(ArticleRejected) as caught:
        ValidateSchemaPipeline(stats).process_item(item)
    assert isinstance(caught.value, DropItem)
    assert caught.value.stage == "validate"
    assert caught.value.reason.startswith(field)
    assert caught.value.failure_record() == {"url": item.url, "article_id": item.article_id,
                                             "stage": "validate", "reason": caught.value.reason}
    assert str(caught.value).startswith("validate: ")
    assert stats.get_value("archiver/validate/invalid") == 1
    assert stats.get_value(f"archiver/validate/invalid/{field}") == 1


def test_duplicate_article_reached_through_another_url_is_dropped() -> None:
    stats = DictStats()
    pipeline = DropDuplicatesPipeline(stats)
    first = valid_item()
    pipeline.process_item(first)
    with pytest.raises(ArticleSkipped) as caught:
        pipeline.process_item(valid_item("https://www.defense.gov/News/NewsArticle.aspx?ID=1"))
    assert caught.value.stage == "duplicates"
    assert caught.value.reason.startswith(f"duplicate of {first.article_id} (")  # its record has that id
    assert len(pipeline.kept) == 1
    assert isinstance(caught.value, SkippedItem)  # the crawl report does not count these as failures
    assert not isinstance(caught.value, ArticleRejected)
    assert caught.value.log_level == "INFO"
    other = valid_item()
    other.article_id = "2"
    assert pipeline.process_item(other) is other
    assert stats.get_value("archiver/duplicates/unique") == 2
    assert stats.get_value("archiver/duplicates/dropped") == 1


def test_another_article_giving_a_kept_id_is_kept_too() -> None:
    """A page naming the id of an article already kept (canonical link, og:url) but with another
    title or text is not that article: it is kept, with the id the page gives; a later copy of
    either is a duplicate."""
    stats = DictStats()
    pipeline = DropDuplicatesPipeline(stats)
    genuine = valid_item()
    pipeline.process_item(genuine)
    other = valid_item("https://www.defense.gov/News/Article/Article/1000123/")
    other.title = "Another Article"
    assert pipeline.process_item(other) is other
    assert other.article_id == genuine.article_id
    for copy in (valid_item("https://www.defense.gov/News/Article/Article/1/x/"), other):
        with pytest.raises(ArticleSkipped):
            pipeline.process_item(copy)
    assert stats.get_value("archiver/duplicates/unique") == 1
    assert stats.get_value("archiver/duplicates/same_id_other_text") == 1
    assert stats.get_value("archiver/duplicates/dropped") == 2


def test_pipeline_order_is_priority_order_with_room_for_provenance() -> None:
    priorities = list(PIPELINE_ORDER.values())
    assert priorities == sorted(priorities)
    body = PIPELINE_ORDER["pipelines.body.AssembleBodyPipeline"]
    validate = PIPELINE_ORDER["pipelines.validate.ValidateSchemaPipeline"]
    assert validate - body > 100
    for path in PIPELINE_ORDER:
        assert callable(load_class(path).from_crawler)


def test_chain_counts_stats_and_gives_the_cleaned_record() -> None:
    chain = PipelineChain.build()
    record = chain.process(fixture_item()).record()
    assert record["body"].startswith("Leaders from more than a dozen nations")
    assert record["historical"] is True
    stats = chain.stats.get_stats()
    assert stats["archiver/captions/removed"] > 0
    assert stats["archiver/validate/valid"] == 1
    assert all(key.startswith("archiver/") for key in stats)


def test_chain_settings_switch_pipelines_off_as_in_a_crawl() -> None:
    chain = PipelineChain.build({"ARCHIVER_DROP_DUPLICATES": "False", "ARCHIVER_VALIDATE": False})
    names = [type(p).__name__ for p in chain.pipelines]
    assert "DropDuplicatesPipeline" not in names
    assert "ValidateSchemaPipeline" not in names
    chain.process(fixture_item())
    chain.process(fixture_item())  # no duplicate drop


def test_chain_and_scrapy_crawler_produce_the_same_record() -> None:
    crawler = get_crawler(settings_dict={"ITEM_PIPELINES": dict(PIPELINE_ORDER)})
    paths = sorted(PIPELINE_ORDER, key=PIPELINE_ORDER.get)
    pipelines = [build_from_crawler(load_class(p), crawler) for p in paths]
    item = fixture_item()
    for pipeline in pipelines:
        item = pipeline.process_item(item)
    assert item.record() == PipelineChain.build().process(fixture_item()).record()
    assert crawler.stats is not None
    assert crawler.stats.get_value("archiver/validate/valid") == 1


def test_a_rejected_item_in_the_chain_raises() -> None:
    item = valid_item()
    item.blocks = [Block("caption", "only a caption")]
    item.body = ""
    with pytest.raises(ArticleRejected, match="body: empty"):
        PipelineChain.build().process(item)
