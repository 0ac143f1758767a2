"""Hostile and broken redirects are refused: off the site, to a non-HTTP(S) URL, or in a loop.

``GuardedRedirectMiddleware`` / ``GuardedMetaRefreshMiddleware`` (replace Scrapy's, 600 / 580): a
redirect off the site (the hosts of :func:`archiver.site.on_hosts`), to a non-HTTP(S) URL, or back
into its own chain fails the request with that reason; credentials in a redirect's URL are dropped.
Scrapy drops such redirects silently (its offsite filter and dupefilter run when the new request
is scheduled, where no errback is called), and lets a retried request (``dont_filter``) follow an
off-site redirect.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import IgnoreRequest

from archiver.site import on_hosts, without_credentials

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def redirect_problem(request: Request, target: str, allowed_domains: list[str]) -> str | None:
    """Why the redirect of ``request`` to ``target`` must not be followed, else None."""
    if urlsplit(target).scheme.lower() not in {"http", "https"}:
        return f"redirect to a non-HTTP(S) URL not followed: {target[:300]}"
    if allowed_domains and not on_hosts(target, allowed_domains):  # OffsiteMiddleware's rule
        host = urlsplit(target).hostname or ""
        return f"off-site redirect not followed: {target[:300]} ({host} is not one of the site's hosts)"
    chain = [*request.meta.get("redirect_urls", []), request.url]
    if target in chain:
        return "redirect loop: " + " -> ".join(u[:300] for u in [*chain, target])
    return None


def _check_redirect(crawler: Crawler, request: Request, target: str) -> None:
    allowed = [d for d in getattr(crawler.spider, "allowed_domains", None) or [] if d]
    problem = redirect_problem(request, target, allowed)
    if problem is None:
        return
    assert crawler.stats is not None
    crawler.stats.inc_value("archiver/redirects/refused")
    logger.info("%s: %s", request.url, problem)
    raise IgnoreRequest(problem)


def _followable(crawler: Crawler, redirected: Request, request: Request) -> Request:
    """``redirected`` if it may be followed (credentials dropped), else ``IgnoreRequest``."""
    _check_redirect(crawler, request, redirected.url)
    if without_credentials(redirected.url) != redirected.url:
        redirected = redirected.replace(url=without_credentials(redirected.url))
        logger.warning("dropped the credentials of the redirect of %s to %s", request.url, redirected.url)
        assert crawler.stats is not None
        crawler.stats.inc_value("archiver/redirects/credentials_removed")
    return redirected


class GuardedRedirectMiddleware(RedirectMiddleware):
    """Scrapy's RedirectMiddleware; refused redirects (see ``redirect_problem``) fail the request,
    credentials in a redirect's URL are dropped. Stats ``archiver/redirects/refused``,
    ``archiver/redirects/credentials_removed``.
    """

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if self._would_follow(request, response):
            # a Location of another scheme (javascript:, data:, file:) is refused before Scrapy
            # builds a request of it (it raises ValueError on some, hands back the 3xx on others)
            location = (response.headers.get(b"Location") or b"").decode("latin-1").strip()
            target = urljoin(request.url, location)
            if urlsplit(target).scheme.lower() not in {"http", "https"}:
                _check_redirect(self.crawler, request, target)
        return super().process_response(request, response)

    def _would_follow(self, request: Request, response: Response) -> bool:
        handled = (*getattr(self.crawler.spider, "handle_httpstatus_list", ()),
                   *request.meta.get("handle_httpstatus_list", ()))
        return response.status in REDIRECT_STATUSES and b"Location" in response.headers \
            and not request.meta.get("dont_redirect") and response.status not in handled \
            and not request.meta.get("handle_httpstatus_all")

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        # Scrapy's private hook where every followed redirect passes (pinned Scrapy 2.19)
        return super()._redirect(_followable(self.crawler, redirected, request), request, reason)


class GuardedMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware with the same refusals as ``GuardedRedirectMiddleware``."""

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        return super()._redirect(_followable(self.crawler, redirected, request), request, reason)
