"""The small text pipelines: whitespace, chrome + historical, videos, follow line, byline, dates, body."""

from __future__ import annotations

from archiver.items import ArticleItem, Block
from pipelines.base import DictStats
from pipelines.body import AssembleBodyPipeline
from pipelines.byline import BylinePipeline
from pipelines.chrome import StripChromePipeline
from pipelines.dates import PublishedDatePipeline
from pipelines.follow import FollowLinePipeline
from pipelines.videos import VideoPipeline
from pipelines.whitespace import NormaliseWhitespacePipeline

NOTICE = ("You have accessed part of a historical collection on defense.gov. Some of the information "
          "contained within may be outdated and links may not function.")


def item(**fields: object) -> ArticleItem:
    return ArticleItem(url="https://www.defense.gov/x", **fields)  # type: ignore[arg-type]


def texts(article: ArticleItem) -> list[str]:
    return [b.text for b in article.blocks]


def test_whitespace_and_nbsp_collapsed_and_empty_blocks_dropped() -> None:
    stats = DictStats()
    article = item(title="\n  Title\xa0 Here \n", blocks=[Block("p", " a\xa0\xa0b\n c "), Block("p", "\xa0"),
                                                           Block("p", "")],
                   byline="By  Jane\xa0Doe \n DOD News", images=[{"caption": " x\n y "}],
                   videos=[{"title": " t ", "duration": 3}], tags=[" ISIL ", "ISIL", ""])
    NormaliseWhitespacePipeline(stats).process_item(article)
    assert article.title == "Title Here"
    assert texts(article) == ["a b c"]
    assert article.byline == "By Jane Doe\nDOD News"
    assert article.images == [{"caption": "x y"}]
    assert article.videos == [{"title": "t", "duration": 3}]
    assert article.tags == ["ISIL"]
    assert stats.get_value("archiver/whitespace/empty_blocks") == 2


def test_chrome_removed_and_notice_sets_historical() -> None:
    stats = DictStats()
    article = item(blocks=[Block("notice", NOTICE), Block("chrome", "Download Details"),
                           Block("p", "An official website of the United States Government"),
                           Block("p", "Body."), Block("p", "Related Stories")])
    StripChromePipeline(stats).process_item(article)
    assert texts(article) == ["Body."]
    assert article.historical is True
    assert stats.get_value("archiver/chrome/blocks_removed") == 4
    assert stats.get_value("archiver/chrome/historical") == 1


def test_no_notice_no_historical() -> None:
    article = item(blocks=[Block("p", "The museum keeps a historical collection of uniforms.")])
    StripChromePipeline(DictStats()).process_item(article)
    assert article.historical is False
    assert texts(article) == ["The museum keeps a historical collection of uniforms."]


def test_videos_parsed_and_player_text_removed() -> None:
    stats = DictStats()
    article = item(videos=[{"title": "VIDEO | 02:29 | Hicks Talks Readiness", "duration": "02:29",
                            "src": "v.mp4"},
                           {"title": "VIDEO | 01:02:03 | Long | One", "duration": "", "src": "w.mp4"}],
                   blocks=[Block("p", "Text."), Block("p", "00:33"), Block("p", "Play"),
                           Block("p", "VIDEO | 00:33 | Carter Reviews"), Block("player", "Play"),
                           Block("p", "Play ball, he said.")])
    VideoPipeline(stats).process_item(article)
    assert article.videos == [{"title": "Hicks Talks Readiness", "duration": 149, "src": "v.mp4"},
                              {"title": "One", "duration": 3723, "src": "w.mp4"}]
    assert texts(article) == ["Text.", "Play ball, he said."]
    assert stats.get_value("archiver/videos/player_text_removed") == 4


def test_a_clock_far_from_any_player_stays() -> None:
    article = item(blocks=[Block("p", "10:30"), Block("p", "Text.")])
    VideoPipeline(DictStats()).process_item(article)
    assert texts(article) == ["10:30", "Text."]


def test_follow_line_removed_and_trailing_parenthetical_trimmed() -> None:
    stats = DictStats()
    article = item(blocks=[Block("p", "Q: A follow-up on Iraq?"),
                           Block("p", "Done. (Follow Jim on Twitter: @jim)"),
                           Block("p", "(Follow Jim Garamone on Twitter: @GaramoneDoDNews)")])
    FollowLinePipeline(stats).process_item(article)
    assert texts(article) == ["Q: A follow-up on Iraq?", "Done."]
    assert stats.get_value("archiver/follow/removed") == 1
    assert stats.get_value("archiver/follow/trimmed") == 1


def test_byline_to_authors_and_none_for_releases() -> None:
    story = item(content_type="news-story", byline="By Jim Garamone and Amaani Lyle\nDoD News")
    release = item(content_type="release", byline="By Jim Garamone")
    stats = DictStats()
    BylinePipeline(stats).process_item(story)
    BylinePipeline(stats).process_item(release)
    assert story.authors == ["Jim Garamone", "Amaani Lyle"]
    assert release.authors == []
    assert stats.get_value("archiver/byline/ignored") == 1


def test_dates_to_iso_and_unparsed_counted() -> None:
    stats = DictStats()
    good, bad = item(published="Sept. 30, 2025"), item(published="sometime")
    PublishedDatePipeline(stats).process_item(good)
    PublishedDatePipeline(stats).process_item(bad)
    assert (good.published, bad.published) == ("2025-09-30", "sometime")
    assert stats.get_value("archiver/dates/unparsed") == 1


def test_body_assembled_with_subheadings() -> None:
    stats = DictStats()
    article = item(blocks=[Block("p", "One."), Block("h", "Campaign Plan"), Block("p", "Two."),
                           Block("caption", "left over")])
    AssembleBodyPipeline(stats).process_item(article)
    assert article.body == "One.\n\n## Campaign Plan\n\nTwo."
    assert stats.get_value("archiver/body/other_blocks_dropped") == 1
