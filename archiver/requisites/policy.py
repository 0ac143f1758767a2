"""Which requisites a crawl fetches: the site's own hosts, never trackers (framework-free).

A requisite is fetched when its host is one the crawl may fetch from (the site's host and
``ARCHIVER_SITE_HOSTS``, with their subdomains: ``defense.gov`` covers media.defense.gov, where
the real site's photos live) or one of ``ARCHIVER_REQUISITES_HOSTS``, and no pattern of
``ARCHIVER_REQUISITES_IGNORE`` matches its URL (analytics and trackers, also those the site
serves itself). See docs/replay.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

#: third-party trackers, analytics and share widgets, and the site's own analytics scripts:
#: never fetched (regular expressions, searched case-insensitively in the URL)
DEFAULT_IGNORE: tuple[str, ...] = (
    r"//([^/]+\.)?googletagmanager\.com/",
    r"//([^/]+\.)?google-analytics\.com/",
    r"//([^/]+\.)?doubleclick\.net/",
    r"//([^/]+\.)?googlesyndication\.com/",
    r"//([^/]+\.)?facebook\.(net|com)/",
    r"//([^/]+\.)?addtoany\.com/",
    r"//([^/]+\.)?addthis\.com/",
    r"//([^/]+\.)?sharethis\.com/",
    r"//([^/]+\.)?moatads\.com/",
    r"//([^/]+\.)?siteimproveanalytics\.(com|io)/",
    r"//([^/]+\.)?hotjar\.com/",
    r"//([^/]+\.)?nr-data\.net/",
    r"//dap\.digitalgov\.gov/",
    r"//search\.usa\.gov/",  # the search box's remote loader (a third-party service)
    r"/GoogleAnalytics/",  # the federated (DAP) analytics script the site serves itself
    r"/DVIDSAnalytics/",  # DVIDS video analytics
    r"piwik|matomo",
)


def host_matches(host: str, domains: Iterable[str]) -> bool:
    """Whether ``host`` is one of ``domains`` or a subdomain of one (as Scrapy's OffsiteMiddleware)."""
    host = host.lower().rstrip(".")
    for domain in domains:
        domain = domain.lower().strip().lstrip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


class RequisitePolicy:
    """Decides, per URL, whether a requisite is fetched, and why not."""

    def __init__(self, hosts: Iterable[str], ignore: Iterable[str] = DEFAULT_IGNORE) -> None:
        self.hosts = [h for h in hosts if h]
        patterns = [p for p in ignore if p]
        self.ignore = re.compile("|".join(f"(?:{p})" for p in patterns), re.I) if patterns else None

    def refusal(self, url: str) -> str | None:
        """None when ``url`` is fetched; else ``"ignored"`` (a tracker) or ``"offsite"``."""
        if self.ignore is not None and self.ignore.search(url):
            return "ignored"
        if not host_matches(urlsplit(url).hostname or "", self.hosts):
            return "offsite"
        return None
