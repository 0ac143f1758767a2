"""XML sitemaps (index + children), through Scrapy's own ``SitemapSpider``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scrapy.spiders import SitemapSpider as ScrapySitemapSpider

from archiver.extract.dates import parse_date
from archiver.site import ARTICLE_URL, url_problem
from spiders.base import ArchiverSpider


class SitemapSpider(ArchiverSpider, ScrapySitemapSpider):
    """Archives every article URL of ``<site>/sitemap.xml`` (and the sitemaps it lists).
    Arguments: ``since``/``until`` (by ``lastmod``)."""

    name = "sitemap"
    sitemap_rules = [(ARTICLE_URL, "parse_article")]  # noqa: RUF012 (Scrapy's own attribute); any era's form
    sitemap_follow = [r".*"]  # noqa: RUF012

    async def start(self) -> Any:
        for request in self.resumed_requests():
            yield request
        self.sitemap_urls = [self.site + "/sitemap.xml"]
        async for request in super().start():
            yield self._with_errback(request)

    def _with_errback(self, request: Any) -> Any:
        """Scrapy's sitemap requests have no errback: a refused or failed sitemap would only be
        logged. With :meth:`on_error` it is a failure with its reason, as a listing is."""
        if request.callback == self._parse_sitemap and request.errback is None:
            return request.replace(errback=self.on_error)
        return request

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        for entry in entries:
            problem = url_problem(str(entry.get("loc", "")))
            if problem is not None:
                # Scrapy's Request() raises on a relative or empty <loc>, which would drop the
                # rest of the sitemap: such an entry is refused here, with the reason
                self.logger.warning("sitemap entry refused: %s", problem)
                self._count("archiver/links/refused")
                continue
            when = parse_date(entry.get("lastmod"))
            if self.too_new(when) or self.too_old(when):
                continue
            yield entry

    def _parse_sitemap(self, response: Any) -> Any:
        for request in self.read_on(super()._parse_sitemap(response), response.url):
            if request.callback != self.parse_article:
                yield self._with_errback(request)
                continue
            article = self.new_article_request(request.url)
            if article is not None:
                yield article
