"""A real browser replaying an archive: ReplayWeb.page (or pywb) in headless Chromium via Playwright.

What the tests need besides the venv: Debian's ``chromium`` (on PATH) and ReplayWeb.page's
``ui.js`` / ``sw.js`` (npm ``replaywebpage``, pinned in tools/replaywebpage/, installed by
``.ci/services.sh`` into ``.venv/tools/replaywebpage/``). Without them a test is skipped with the
reason, and fails under CI (``CI`` set), where .ci/services.sh must have installed them.
Playwright drives the system Chromium (``executable_path``): no browser is downloaded.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from archiver.requisites.policy import DEFAULT_IGNORE

ROOT = Path(__file__).resolve().parent.parent
RWP_DIST = ROOT / ".venv" / "tools" / "replaywebpage" / "node_modules" / "replaywebpage"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
#: a replayed URL inside a replay system's own: ``.../20261203170443mp_/http://site/path``
_REPLAYED = re.compile(r"/\d{0,14}[a-z]{0,3}_/(.+)$")
_IGNORED = re.compile("|".join(f"(?:{p})" for p in DEFAULT_IGNORE), re.I)


def require(ok: bool, message: str) -> None:
    """Skip (fail under CI) when a tool the browser tests need is missing."""
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI: .ci/services.sh must install it)")
    pytest.skip(message)


def chromium() -> str:
    path = shutil.which("chromium")
    require(path is not None, "no chromium on PATH (the Debian package; bash .ci/services.sh installs it)")
    assert path is not None
    return path


def replaywebpage() -> Path:
    require((RWP_DIST / "ui.js").is_file() and (RWP_DIST / "sw.js").is_file(),
            f"ReplayWeb.page is not installed in {RWP_DIST} (bash .ci/services.sh runs npm ci)")
    return RWP_DIST


def playwright_api() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package is not installed (make setup)")
    return sync_playwright


@contextmanager
def static_site(root: Path) -> Iterator[str]:
    """Serve ``root`` on a free port of 127.0.0.1 (quietly); yield its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def replaywebpage_site(root: Path, wacz: Path, url: str) -> Path:
    """A page embedding ReplayWeb.page on ``url`` of ``wacz`` (ui.js beside it, sw.js in replay/)."""
    dist = replaywebpage()
    (root / "replay").mkdir(parents=True, exist_ok=True)
    shutil.copy(dist / "ui.js", root / "ui.js")
    shutil.copy(dist / "sw.js", root / "replay" / "sw.js")
    shutil.copy(wacz, root / "archive.wacz")
    (root / "index.html").write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><script src="./ui.js"></script></head>'
        '<body style="margin:0"><replay-web-page style="display:block;width:100vw;height:100vh" '
        f'source="archive.wacz" url="{url}" replayBase="./replay/" '
        'embed="replayonly">'
        "</replay-web-page></body></html>\n", "utf-8")
    return root / "index.html"


@dataclass
class Replayed:
    """What the browser showed of one replayed page."""

    stylesheets: list[dict[str, Any]]
    font_family: str
    images: list[dict[str, Any]]
    failed: list[tuple[int, str]] = field(default_factory=list)  # (status, original URL) of same-site misses
    fonts: list[dict[str, str]] = field(default_factory=list)  # each @font-face: family, status
    #: the screen-reader-only texts (``.sr-only``: photo links' captions, labels) drawn larger than 1 px
    shown_sr_only: list[str] = field(default_factory=list)


#: in the replayed page: every stylesheet link (loaded, with rules?), the article text's font, every image
_PAGE_STATE = """async () => {
  for (const img of document.images) { img.loading = "eager"; img.scrollIntoView(); }
  const deadline = Date.now() + 20000;
  while ([...document.images].some(i => !i.complete) && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 100));
  }
  const text = document.querySelector(".adetail .body p") || document.querySelector("p");
  return {
    stylesheets: [...document.querySelectorAll("link[rel~=stylesheet]")].map(l => {
      let rules = 0;
      try { rules = l.sheet ? l.sheet.cssRules.length : 0; } catch (e) { rules = -1; }  // not the archive's
      return {href: l.href, loaded: !!l.sheet && rules >= 0, rules: rules};
    }),
    fontFamily: getComputedStyle(text).fontFamily,
    shownSrOnly: [...document.querySelectorAll(".sr-only")].filter(e => {
      const box = e.getBoundingClientRect();
      return box.width > 1 || box.height > 1;
    }).map(e => e.textContent.trim().slice(0, 80)),
    images: [...document.images].map(i => ({src: i.currentSrc || i.src, complete: i.complete,
                                            naturalWidth: i.naturalWidth})),
    fonts: await (async () => {  // a face the page uses loads; "error": its file is missing or no font
      await Promise.race([document.fonts.ready, new Promise(r => setTimeout(r, 5000))]);
      return [...document.fonts].map(f => ({family: f.family, status: f.status}));
    })(),
  };
}"""


def original_url(replayed_url: str) -> str:
    """The archived URL inside a replay URL (``.../<ts>mp_/http://...``), else the URL itself."""
    match = _REPLAYED.search(replayed_url)
    if match is None:
        return replayed_url
    url = match.group(1)
    return "http:" + url if url.startswith("//") else url


def replay(page_url: str, article_url: str, site_host: str, screenshot: Path,
           timeout: float = 90) -> Replayed:
    """Open ``page_url`` in headless Chromium, find the frame replaying ``article_url``, read it.
    ``site_host`` (``host[:port]``): the misses of that site's requisites are collected."""
    sync_playwright = playwright_api()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            misses: list[tuple[int, str]] = []

            def on_response(response: Any) -> None:
                url = original_url(response.url)
                if response.status >= 400 and urlsplit(url).netloc == site_host and not _IGNORED.search(url):
                    misses.append((response.status, url))

            page.context.on("response", on_response)
            page.goto(page_url)
            frame = _replay_frame(page, article_url, timeout / 3)
            for _ in range(2):
                # ReplayWeb.page's first load sometimes stays on its loading screen (its service worker
                # not yet in control): a reload, as a person would, finds the worker in place
                if frame is not None:
                    break
                page.reload()
                frame = _replay_frame(page, article_url, timeout / 3)
            if frame is None:
                raise AssertionError(f"no frame replayed {article_url} within {timeout} s; frames: "
                                     f"{[f.url for f in page.frames]}")
            state = frame.evaluate(_PAGE_STATE)
            frame.evaluate("document.querySelector('.adetail') && document.querySelector('.adetail')"
                           ".scrollIntoView()")
            page.wait_for_timeout(500)
            page.screenshot(path=str(screenshot))
            keep_artifact(screenshot)
            return Replayed(state["stylesheets"], state["fontFamily"], state["images"], misses,
                            state["fonts"], state["shownSrOnly"])
        finally:
            browser.close()


def _replay_frame(page: Any, article_url: str, timeout: float) -> Any:
    """The (nested) frame showing the archived article, once its article container is there (None
    when none did within ``timeout`` seconds)."""
    waited = 0.0
    while waited < timeout:
        for frame in page.frames:
            if original_url(frame.url) != article_url:
                continue
            try:
                if frame.evaluate("document.readyState === 'complete' && !!document.querySelector('h1')"):
                    return frame
            except Exception as exc:
                if "detached" not in str(exc) and "destroyed" not in str(exc):
                    raise
        page.wait_for_timeout(250)  # not time.sleep: Playwright's events arrive while it waits
        waited += 0.25
    return None


def keep_artifact(path: Path) -> None:
    """A copy of a test's screenshot in test-artifacts/ (git-ignored) for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)
