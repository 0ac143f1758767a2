"""Requests as JSON in the Redis queue: what goes in comes out, and nothing executable goes in."""

from __future__ import annotations

from typing import Any

import pytest
import scrapy
from scrapy.utils.request import request_from_dict

from archiver.distributed import serializer


class Spider(scrapy.Spider):
    name = "t"

    def parse_listing(self, response: Any) -> None:
        """A callback, found again by name."""

    def on_error(self, failure: Any) -> None:
        """An errback."""


def test_a_request_round_trips() -> None:
    spider = Spider()
    request = scrapy.Request(
        "http://example.org/News/?Page=2", callback=spider.parse_listing, errback=spider.on_error,
        method="POST", body=b"\x00\xff binary", headers={"X-Tag": ["a", "b"], "Accept-Encoding": "gzip"},
        meta={"archiver_listing_page": ("releases", 2, "http://example.org/a"), "depth": 1,
              "warc": {"offset": 0, "filename": None}}, cb_kwargs={"section": "releases", "page": 2},
        priority=10, dont_filter=True)
    stored = serializer.dumps(request.to_dict(spider=spider))
    again = request_from_dict(serializer.loads(stored), spider=spider)
    assert (again.url, again.method, again.body, again.priority, again.dont_filter) == \
        (request.url, request.method, request.body, request.priority, request.dont_filter)
    assert again.headers.getlist("X-Tag") == [b"a", b"b"]
    assert again.meta == request.meta
    assert again.cb_kwargs == request.cb_kwargs
    assert again.callback == spider.parse_listing
    assert again.errback == spider.on_error


def test_the_queue_entry_is_readable_json() -> None:
    encoded = serializer.dumps({"url": "http://example.org/é", "body": b""})
    assert encoded.decode("utf-8") == '{"url":"http://example.org/é","body":{"__bytes__":""}}'


def test_dicts_that_look_like_tags_survive() -> None:
    value = {"__bytes__": "not base64", "n": [1, (2, 3)]}
    assert serializer.loads(serializer.dumps(value)) == value


@pytest.mark.parametrize("value", [{1, 2}, object(), {"meta": {"when": frozenset()}}])
def test_values_json_cannot_hold_are_refused(value: object) -> None:
    with pytest.raises(TypeError, match="cannot be queued in Redis"):
        serializer.dumps(value)
