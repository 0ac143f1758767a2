"""``clean-text`` on the seed naive scrape: the article alone, each caption once, both videos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archiver.extract.text import CHROME_PHRASES
from archiver.extract.textdump import clean_text_dump

SEED = Path(__file__).resolve().parent / "fixtures" / "real" / "seed-naive-scrape.txt"


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    return clean_text_dump(SEED.read_text("utf-8"))


def test_title(seed: dict[str, Any]) -> None:
    assert seed["title"] == "ISIL ‘Failing,’ Defense Leaders Say After London Meeting"


def test_historical(seed: dict[str, Any]) -> None:
    assert seed["historical"] is True


def test_each_image_once_with_title_credit_virin(seed: dict[str, Any]) -> None:
    assert [(i["title"], i["credit"], i["virin"]) for i in seed["images"]] == [
        ("Counter-ISIL Conference", "Tech. Sgt. Brigitte N. Brantley", "161215-D-GO396-0207"),
        ("SD visits Iraq", "Brigitte N. Brantley", "161211-D-GO396-0416"),
    ]
    first_caption = seed["images"][0]["caption"]
    assert first_caption.startswith("Defense Secretary Ash Carter speaks during a meeting in London")
    assert seed["images"][1]["caption"].endswith("DoD photo by Air Force Tech. Sgt. Brigitte N. Brantley")


def test_both_videos(seed: dict[str, Any]) -> None:
    assert seed["videos"] == [
        {"title": "Carter Reviews Counter-ISIL Coalition Successes", "duration": 33},
        {"title": "Carter Discusses Future of the Counter-ISIL Campaign", "duration": 25},
    ]


def test_three_subheadings(seed: dict[str, Any]) -> None:
    headings = [line for line in seed["body"].split("\n\n") if line.startswith("## ")]
    assert headings == ["## Campaign Plan", "## The Future", "## Strategic Approach"]


def test_body_has_no_caption_text(seed: dict[str, Any]) -> None:
    assert seed["images"]
    for image in seed["images"]:
        assert image["caption"] not in seed["body"]
        assert image["title"] not in seed["body"]
        assert image["virin"] not in seed["body"]
    assert "DoD photo by" not in seed["body"]


@pytest.mark.parametrize("phrase", CHROME_PHRASES)
def test_body_has_no_chrome(seed: dict[str, Any], phrase: str) -> None:
    assert phrase not in seed["body"]


def test_body_keeps_the_article(seed: dict[str, Any]) -> None:
    paragraphs = seed["body"].split("\n\n")
    assert paragraphs[0].startswith("The Islamic State of Iraq and the Levant is failing")
    assert paragraphs[-1].endswith("finish this job together.”")
    assert len(paragraphs) == 20  # 17 paragraphs and 3 subheadings
    assert "00:33" not in seed["body"]
    assert "Play" not in paragraphs


def test_synthetic_dump_without_popup_title() -> None:
    caption = "Soldiers train at Fort Bragg, North Carolina, June 3, 2019. Army photo by Sgt. James K. McCann"
    text = "\n".join(["Troops Train", caption, caption, "Photo By: Sgt. James K. McCann",
                      "First paragraph of the story, long enough to be body text without any doubt at all.",
                      "01:05", "Play", "VIDEO | 01:05 | Training Day", "Last paragraph."])
    got = clean_text_dump(text)
    assert got["title"] == "Troops Train"
    assert got["images"] == [{"title": "", "caption": caption, "credit": "Sgt. James K. McCann", "virin": ""}]
    assert got["videos"] == [{"title": "Training Day", "duration": 65}]
    assert got["body"] == ("First paragraph of the story, long enough to be body text without any doubt "
                           "at all.\n\nLast paragraph.")
    assert got["historical"] is False
