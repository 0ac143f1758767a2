"""Request headers a CDN lets through: a page's Accept and Accept-Language, a User-Agent naming the
tool and whoever runs the crawl (``--contact``), and a warning when the real site is crawled
anonymously. The "real site" is www.defense.gov through the replica used as an HTTP proxy."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders

from archiver.replica.process import RunningReplica, replica
from tests.harness import crawl, warc_files, warc_records

REAL = "http://www.defense.gov"
WARNING = "without a contact"


@pytest.fixture(scope="module")
def site() -> Iterator[RunningReplica]:
    with replica("--articles", "30", "--seed", "5", "--crawl-delay", "0") as running:
        yield running


def _crawl(out: Path, site: str, proxy: RunningReplica, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in {"http_proxy", "https_proxy", "no_proxy"}}
    env["http_proxy"] = proxy.base  # only 127.0.0.1 is reached: the replica answers for any host
    return crawl(out, site, "--sections", "releases", "--max-pages", "1", *args, timeout=300, env=env)


def _requests(out: Path) -> list[StatusAndHeaders]:
    """The HTTP headers of every request record."""
    return [record.http_headers for _path, _iterator, record in warc_records(warc_files(out))
            if record.rec_type == "request"]


def _header(request: StatusAndHeaders, name: str) -> str:
    return request.get_header(name) or ""


def test_the_real_site_without_a_contact_warns_once(tmp_path: Path, site: RunningReplica) -> None:
    out = tmp_path / "out"
    result = _crawl(out, REAL, site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.count(WARNING) == 1, result.stderr
    assert (out / "crawl.log").read_text("utf-8").count(WARNING) == 1
    requests = _requests(out)
    assert requests
    for request in requests:  # the tool, and no placeholder contact
        assert _header(request, "User-Agent") == "defense-news-archiver/0.1"


def test_pages_are_asked_for_as_a_browser_asks_with_the_contact_in_the_user_agent(
        tmp_path: Path, site: RunningReplica) -> None:
    out = tmp_path / "out"
    result = _crawl(out, REAL, site, "--contact", "archivist@example.org")
    assert result.returncode == 0, result.stdout + result.stderr
    assert WARNING not in result.stderr
    assert WARNING not in (out / "crawl.log").read_text("utf-8")
    pages = [r for r in _requests(out) if "robots.txt" not in r.statusline]
    assert pages
    for request in pages:
        assert _header(request, "User-Agent") == "defense-news-archiver/0.1 (+archivist@example.org)"
        assert _header(request, "Accept").startswith("text/html,application/xhtml+xml")
        assert _header(request, "Accept-Language") == "en-US,en;q=0.9"
        assert "gzip" in _header(request, "Accept-Encoding")
    assert _warcinfo_user_agents(out) == {"defense-news-archiver/0.1 (+archivist@example.org)"}


def _warcinfo_user_agents(out: Path) -> set[str]:
    """The ``http-header-user-agent`` field of every warcinfo record (WARC 1.1: the UA the crawl sent)."""
    found = set()
    for _path, _iterator, record in warc_records(warc_files(out)):
        if record.rec_type == "warcinfo":
            for line in record.content_stream().read().decode("utf-8").splitlines():
                name, _, value = line.partition(": ")
                if name == "http-header-user-agent":
                    found.add(value)
    return found


def test_the_older_contact_url_setting_still_works(tmp_path: Path, site: RunningReplica) -> None:
    out = tmp_path / "out"
    result = _crawl(out, REAL, site, "-s", "ARCHIVER_CONTACT_URL=https://example.org/crawl")
    assert result.returncode == 0, result.stdout + result.stderr
    assert WARNING not in result.stderr
    assert {_header(r, "User-Agent") for r in _requests(out)} == \
        {"defense-news-archiver/0.1 (+https://example.org/crawl)"}


def test_another_site_without_a_contact_is_not_warned_about(tmp_path: Path, site: RunningReplica) -> None:
    out = tmp_path / "out"
    result = _crawl(out, site.base, site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert WARNING not in result.stderr


@pytest.mark.parametrize("contact", ["not a contact", "me@example.org\r\nX-Evil: 1", "ftp://example.org/"])
def test_a_contact_that_cannot_go_into_a_header_is_refused(tmp_path: Path, contact: str) -> None:
    result = subprocess.run([sys.executable, "-m", "archiver", "crawl", "--out", str(tmp_path / "o"),
                             "--site", "http://127.0.0.1:9",
                             "--contact", contact], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--contact: not an e-mail address or an http(s) URL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
