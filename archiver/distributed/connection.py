"""The Redis client of a distributed crawl, and the check that its libraries are usable."""

from __future__ import annotations

import re
from typing import Any

#: what ``pip install`` resolves for scrapy-redis 0.9.1 here (it needs redis-py >= 4.2)
REQUIREMENTS = "scrapy-redis==0.9.1 redis==8.1.0"
MIN_REDIS_PY = (4, 2)


def dependency_problem() -> str | None:
    """Why a distributed crawl cannot run in this Python environment, or None when it can."""
    import importlib.util

    try:
        import redis
    except ImportError as exc:
        return f"distributed crawls need {REQUIREMENTS} ({exc}); see docs/distributed.md"
    if importlib.util.find_spec("scrapy_redis") is None:  # found, not imported: it imports Scrapy
        return f"distributed crawls need {REQUIREMENTS} (no scrapy_redis); see docs/distributed.md"
    version = tuple(int(part) for part in re.findall(r"\d+", redis.__version__)[:2])
    if version < MIN_REDIS_PY:
        return (f"distributed crawls need redis-py >= 4.2 (scrapy-redis 0.9.1), this environment has "
                f"{redis.__version__}; install {REQUIREMENTS} in the crawl's "
                f"environment, see docs/distributed.md")
    return None


#: scrapy-redis' connection defaults (``scrapy_redis.defaults.REDIS_PARAMS``), without importing it
DEFAULT_PARAMS: dict[str, Any] = {
    "socket_timeout": 30,
    "socket_connect_timeout": 30,
    "retry_on_timeout": True,
    "encoding": "utf-8",
}


def connect(url: str, params: dict[str, Any] | None = None) -> Any:
    """A redis-py client for ``url`` (bytes replies) with scrapy-redis' defaults, ``params`` on top."""
    import redis

    return redis.Redis.from_url(url, **{**DEFAULT_PARAMS, **(params or {})})


def check_url(url: str) -> str:
    """``url`` if it is a Redis URL (``redis://``, ``rediss://`` or ``unix://``)."""
    if not re.match(r"(rediss?|unix)://", url):
        raise ValueError(f"not a Redis URL (redis://host:port/db): {url!r}")
    return url
