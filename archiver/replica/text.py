"""Realistic English for the replica corpus.

Sentence pools come from the real pages shipped in ``data/`` (the seed News Story, the real
release and contracts pages) plus templates filled from pools of officials, places and topics
taken from the same kind of pages. No lorem ipsum: extraction quality measured on this text
should transfer to the real site.
"""

from __future__ import annotations

import random
import re
from functools import cache
from importlib import resources

import lxml.html

OFFICIALS: tuple[tuple[str, str, str], ...] = (
    # (full title + name, short form for attribution, speaker label for transcripts)
    ("Defense Secretary Ash Carter", "Carter", "SECRETARY CARTER"),
    ("Defense Secretary Jim Mattis", "Mattis", "SECRETARY MATTIS"),
    ("Defense Secretary Lloyd J. Austin III", "Austin", "SECRETARY AUSTIN"),
    ("Deputy Defense Secretary Kathleen Hicks", "Hicks", "DEPUTY SECRETARY HICKS"),
    ("Army Gen. Mark A. Milley, chairman of the Joint Chiefs of Staff", "Milley", "GENERAL MILLEY"),
    ("Air Force Gen. CQ Brown Jr.", "Brown", "GENERAL BROWN"),
    ("Pentagon Press Secretary Peter Cook", "Cook", "MR. COOK"),
    ("Navy Capt. Jeff Davis, a Pentagon spokesman", "Davis", "CAPTAIN DAVIS"),
    ("Marine Corps Gen. Joseph F. Dunford Jr.", "Dunford", "GENERAL DUNFORD"),
    ("Under Secretary of Defense for Acquisition and Sustainment William A. LaPlante",
     "LaPlante", "DR. LAPLANTE"),
)

AUTHORS: tuple[tuple[str, str], ...] = (
    # (name, twitter handle or "")
    ("Jim Garamone", "GaramoneDoDNews"),
    ("Terri Moon Cronk", "MoonCronkDoD"),
    ("Lisa Ferdinando", "FerdinandoDoD"),
    ("David Vergun", "VergunDoDNews"),
    ("C. Todd Lopez", "DODNewsLopez"),
    ("Jim Garamone", ""),
    ("Katie Lange", ""),
    ("Cheryl Pellerin", "PellerinDoDNews"),
    ("Claudette Roulo", ""),
    ("Amaani Lyle", "LyleDoDNews"),
)

ORGS = ("DoD News, Defense Media Activity", "DOD News", "Defense.gov", "DOD News")

PLACES = (
    "London", "Brussels", "the Pentagon", "Baghdad", "Qayyarah Airfield West, Iraq",
    "Fort Bragg, North Carolina", "Joint Base Pearl Harbor-Hickam, Hawaii", "Tokyo", "Seoul, South Korea",
    "Naval Station Norfolk, Virginia", "Ramstein Air Base, Germany", "Camp Lejeune, North Carolina",
    "Bagram Airfield, Afghanistan", "Singapore", "Warsaw, Poland", "Manila, Philippines",
)

TOPICS = (
    ("the counter-ISIL campaign", "Counter-ISIL Campaign"),
    ("readiness of the joint force", "Force Readiness"),
    ("the defense budget request", "Budget Request"),
    ("cooperation with NATO allies", "NATO Cooperation"),
    ("modernization of the nuclear triad", "Nuclear Modernization"),
    ("military family support programs", "Military Families"),
    ("the COVID-19 response", "Coronavirus Response"),
    ("security in the Indo-Pacific region", "Indo-Pacific Security"),
    ("cyber defense of critical networks", "Cyber Defense"),
    ("the acquisition workforce", "Acquisition Reform"),
    ("space operations", "Space Operations"),
    ("recruiting and retention", "Recruiting"),
)

TAGS = (
    "ISIL", "Iraq", "Syria", "Coalition", "NATO", "Readiness", "Budget", "Defense News",
    "Lethality", "Acquisition", "Military Families", "Cyber", "Space", "Indo-Pacific",
    "Europe", "Afghanistan", "COVID-19", "Modernization", "Partnerships", "Personnel",
)

PHOTOGRAPHERS = (
    "Air Force Tech. Sgt. Brigitte N. Brantley", "Army Sgt. Amber I. Smith",
    "Navy Petty Officer 2nd Class Dominique A. Pineiro", "Marine Corps Sgt. Drew Tech",
    "Air Force Staff Sgt. Jette Carr", "Lisa Ferdinando", "EJ Hersom", "Army Sgt. James K. McCann",
)

AGENCIES = ("ARMY", "NAVY", "AIR FORCE", "DEFENSE LOGISTICS AGENCY", "SPACE FORCE", "MISSILE DEFENSE AGENCY")

STORY_TEMPLATES = (
    "{official} discussed {topic} with counterparts in {place} today.",
    "The meeting in {place} focused on {topic}, officials said.",
    "{short} said progress on {topic} has accelerated over the past year.",
    "“We are making real progress on {topic},” {short} said.",
    "Officials in {place} briefed reporters on {topic} after the session.",
    "{short} thanked service members in {place} for their work on {topic}.",
    "The department will continue to invest in {topic}, {short} said, calling it a priority.",
    "Leaders from more than a dozen nations joined the talks on {topic} in {place}.",
    "{short} noted that {topic} depends on sustained funding from Congress.",
    "During a visit to {place}, {short} met with troops and commanders.",
    "“This is about our people and our partners,” {short} told reporters in {place}.",
    "The effort builds on work that began several years ago, {short} said.",
)

QUESTION_TEMPLATES = (
    "Q: Mr. Secretary, can you say more about {topic}?",
    "Q: Thank you. What does this mean for the troops in {place}?",
    "Q: Has the department set a timeline for {topic}?",
    "Q: How are allies responding to the plan on {topic}?",
    "Q: A follow-up on {place}: what happens next?",
)

SPEECH_OPENERS = (
    "Thank you all very much. It is an honor to be here in {place}.",
    "Good morning, everyone, and thank you for that kind introduction.",
    "Let me begin by thanking the men and women who serve, and their families.",
)


def _data_text(name: str) -> str:
    return resources.files("archiver.replica").joinpath("data", name).read_text("utf-8")


def _split_sentences(paragraph: str) -> list[str]:
    parts = re.split(r"(?<![A-Z]\.[A-Z]\.)(?<=[.!?”])\s+(?=[“A-Z(])", paragraph.strip())
    return [p.strip() for p in parts if len(p.strip()) > 30]


@cache
def story_sentences() -> tuple[str, ...]:
    """Sentences of the seed News Story body (the naive scrape's article paragraphs)."""
    text = _data_text("source-seed-story.txt")
    start = text.index("The Islamic State of Iraq")
    sentences: list[str] = []
    for line in text[start:].splitlines():
        line = line.strip()
        if (
            len(line) < 60
            or "DoD photo" in line
            or line.startswith(("VIDEO", "Photo By", "VIRIN", "(Follow"))
        ):
            continue
        sentences.extend(_split_sentences(line))
    return tuple(dict.fromkeys(sentences))


def _article_paragraphs(page: str, min_length: int) -> tuple[str, ...]:
    """Paragraphs of a real page's article body at least ``min_length`` characters long."""
    doc = lxml.html.fromstring(_data_text(page))
    texts = (" ".join(p.text_content().split())
             for p in doc.cssselect("div.adetail div.body > p")
             if isinstance(p, lxml.html.HtmlElement))
    return tuple(t for t in texts if len(t) >= min_length)


@cache
def contract_paragraphs() -> tuple[str, ...]:
    """Contract award paragraphs of the real contracts page."""
    return _article_paragraphs("source-contracts.html", 120)


@cache
def release_paragraphs() -> tuple[str, ...]:
    """Prose paragraphs of the real release page (the skeleton's own article)."""
    return _article_paragraphs("skeleton-article.html", 150)


class Writer:
    """Deterministic prose from one ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.official = rng.choice(OFFICIALS)
        self.place = rng.choice(PLACES)
        self.topic = rng.choice(TOPICS)

    def fill(self, template: str) -> str:
        return template.format(
            official=self.official[0],
            short=self.official[1],
            place=self.rng.choice(PLACES) if self.rng.random() < 0.3 else self.place,
            topic=self.topic[0],
        )

    def sentence(self) -> str:
        if self.rng.random() < 0.45:
            return self.rng.choice(story_sentences())
        return self.fill(self.rng.choice(STORY_TEMPLATES))

    def paragraph(self, low: int = 1, high: int = 3) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(low, high)))

    def title(self) -> str:
        forms = (
            "{short} Discusses {Topic} in {city}",
            "Leaders Review Progress on {Topic}",
            "{short} Says {Topic} Remains Top Priority",
            "DOD Officials Outline Next Steps on {Topic}",
            "Coalition Partners Meet in {city} on {Topic}",
            "Troops in {city} Hear From {short} on {Topic}",
        )
        city = self.place.split(",")[0].replace("the ", "")
        return self.rng.choice(forms).format(short=self.official[1], Topic=self.topic[1], city=city)

    def photo_caption(self, when: str) -> str:
        place = self.rng.choice(PLACES)
        action = self.rng.choice((
            "speaks during a meeting in", "tours the living quarters of troops serving at",
            "meets with service members at", "answers questions from reporters in",
            "arrives for talks in", "lays a wreath during a ceremony in",
        ))
        return f"{self.official[0].split(',')[0]} {action} {place}, {when}."

    def subheading(self) -> str:
        return self.rng.choice((
            "Campaign Plan", "The Future", "Strategic Approach", "Building Partnerships",
            "Next Steps", "Readiness", "Supporting Families", "Looking Ahead", "Background",
        ))
