"""Caption dedupe: every text of a photo matched to it and removed from the body, each photo once."""

from __future__ import annotations

from archiver.items import ArticleItem, Block
from pipelines.base import DictStats
from pipelines.captions import DedupeCaptionsPipeline

CAPTION = ("Defense Secretary Ash Carter speaks during a meeting in London, Dec. 15, 2016. "
           "DoD photo by Air Force Tech. Sgt. Brigitte N. Brantley")
ALT = "Defense Secretary Ash Carter speaks during a meeting in London, Dec. 15, 2016."
IMAGE = {"src": "https://media.defense.gov/2016/Dec/15/1/-1/-1/0/161215-D-GO396-0207.JPG",
         "title": "Counter-ISIL Conference", "caption": CAPTION, "credit": "Tech. Sgt. Brigitte N. Brantley",
         "virin": "161215-D-GO396-0207", "alt": ALT}


def run(blocks: list[Block], images: list[dict[str, str]]) -> tuple[ArticleItem, DictStats]:
    stats = DictStats()
    item = ArticleItem(url="https://www.defense.gov/x", blocks=blocks, images=images)
    DedupeCaptionsPipeline(stats).process_item(item)
    return item, stats


def test_the_seed_caption_cluster_goes_entirely() -> None:
    blocks = [Block("p", "Before."), Block("caption", CAPTION), Block("caption", CAPTION),
              Block("caption", CAPTION), Block("media-title", "Counter-ISIL Conference"),
              Block("caption", CAPTION), Block("credit", "Photo By: Tech. Sgt. Brigitte N. Brantley"),
              Block("virin", "VIRIN: 161215-D-GO396-0207"),
              Block("p", "After.")]
    item, stats = run(blocks, [IMAGE])
    assert [b.text for b in item.blocks] == ["Before.", "After."]
    assert stats.get_value("archiver/captions/removed") == 7
    assert stats.get_value("archiver/captions/images") == 1


def test_unlabelled_copies_are_matched_by_text() -> None:
    blocks = [Block("p", "Before."), Block("p", CAPTION), Block("p", "Counter-ISIL Conference"),
              Block("p", ALT), Block("p", "Photo By: Tech. Sgt. Brigitte N. Brantley"),
              Block("p", "VIRIN: 161215-D-GO396-0207"),
              Block("p", "After.")]
    item, _ = run(blocks, [IMAGE])
    assert [b.text for b in item.blocks] == ["Before.", "After."]


def test_a_photo_title_away_from_any_caption_is_body_text() -> None:
    blocks = [Block("h", "Counter-ISIL Conference"), Block("p", "Text."), Block("caption", CAPTION),
              Block("p", "More.")]
    item, _ = run(blocks, [IMAGE])
    assert [b.text for b in item.blocks] == ["Counter-ISIL Conference", "Text.", "More."]


def test_each_photo_once() -> None:
    copy = dict(IMAGE, caption="other wording")
    same_virin = dict(IMAGE, src="https://media.defense.gov/other.jpg")
    item, stats = run([Block("p", "x")], [IMAGE, copy, same_virin])
    assert item.images == [IMAGE]
    assert stats.get_value("archiver/captions/duplicate_images") == 2


def test_other_items_pass_through() -> None:
    item = {"url": "x"}
    assert DedupeCaptionsPipeline(DictStats()).process_item(item) is item
