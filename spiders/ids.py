"""Explicit article ids (``-a ids=1000000-1000500``) or URL lists (``-a urls=...``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy.http import Response

from archiver.extensions.report import fail
from archiver.site import parse_id_ranges, url_problem
from spiders.base import ArchiverSpider, _bool_arg

LEGACY_PATH = "/News/NewsArticle.aspx?ID={id}"
ARTICLE_PATH = "/News/Article/Article/{id}/"


class IdsSpider(ArchiverSpider):
    """Archives articles by id or URL. Arguments: ``ids`` (``1000000-1000500,1000777``),
    ``legacy=1`` (ask the legacy ``NewsArticle.aspx?ID=`` URL, which redirects), ``urls``
    (comma list) or ``urls_file`` (one URL a line). An id with no article (404) is counted in
    ``archiver/ids/missing``, not reported as a failure."""

    name = "ids"

    def __init__(self, ids: str | None = None, urls: str | None = None, urls_file: str | None = None,
                 legacy: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ids = parse_id_ranges(ids) if ids else []
        self.urls = [u.strip() for u in (urls or "").split(",") if u.strip()]
        if urls_file:
            lines = Path(urls_file).read_text("utf-8").splitlines()
            self.urls += [u.strip() for u in lines if u.strip() and not u.startswith("#")]
        if not self.ids and not self.urls:
            raise ValueError("give ids=RANGES, urls=URL,... or urls_file=PATH")
        self.legacy = _bool_arg(legacy) if legacy is not None else False

    async def start(self) -> AsyncIterator[Any]:
        for resumed in self.resumed_requests():
            yield resumed
        template = LEGACY_PATH if self.legacy else ARTICLE_PATH
        urls = [self.site + template.format(id=article_id) for article_id in self.ids] + self.urls
        for url in urls:
            problem = url_problem(url)
            if problem is not None:  # the user asked for it: a failure, and the other URLs go on
                fail(self.crawler, url, f"refused: {problem}")
                continue
            request = self.new_article_request(url)
            if request is not None:
                yield request

    def ignore_http_error(self, response: Response) -> bool:
        if response.status == 404 and self.ids:
            self._count("archiver/ids/missing")
            return True
        return False
