"""Video players: their printed text out of the body; title and duration (int seconds) parsed."""

from __future__ import annotations

from typing import Any

from archiver.extract.text import VIDEO_LINE_RE, clock_seconds, is_player_text, video_clock, video_title
from archiver.items import ArticleItem, Block
from pipelines.base import ArticlePipeline


class VideoPipeline(ArticlePipeline):
    """``VIDEO | 00:33 | Title`` → title ``Title``, duration 33; the player's ``00:33`` / ``Play``
    / title line removed from the body (a bare clock or "Play" only next to a player line).

    Stats: ``archiver/videos/videos``, ``archiver/videos/player_text_removed``,
    ``archiver/videos/duration_unknown``.
    """

    stat_group = "videos"

    def process_article(self, item: ArticleItem) -> None:
        item.videos = [_video(v) for v in item.videos]
        self.count("videos", len(item.videos))
        self.count("duration_unknown", sum(v["duration"] is None for v in item.videos))
        kept = _without_player_text(item.blocks)
        self.count("player_text_removed", len(item.blocks) - len(kept))
        item.blocks = kept


def _video(raw: dict[str, Any]) -> dict[str, Any]:
    line = str(raw.get("title") or "")
    duration = raw.get("duration")
    if not isinstance(duration, int):
        duration = clock_seconds(str(duration or "")) or clock_seconds(video_clock(line))
    return {"title": video_title(line), "duration": duration, "src": str(raw.get("src") or "")}


def _without_player_text(blocks: list[Block]) -> list[Block]:
    player = [b.kind == "player" or bool(VIDEO_LINE_RE.match(b.text)) for b in blocks]
    changed = True
    while changed:  # grow over adjacent "00:33" / "Play" blocks ("00:33", "Play", "VIDEO | ...")
        changed = False
        for i, block in enumerate(blocks):
            near = (i > 0 and player[i - 1]) or (i + 1 < len(blocks) and player[i + 1])
            if not player[i] and near and block.kind == "p" and is_player_text(block.text):
                player[i] = changed = True
    return [b for b, p in zip(blocks, player, strict=True) if not p]
