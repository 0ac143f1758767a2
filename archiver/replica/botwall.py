"""The replica as a bot wall (``archiver replica --botwall akamai|cloudflare|cloudflare-challenge``).

Every request (robots.txt included: a CDN blocks at its edge, before any origin rule) after the
first ``--botwall-after N`` is answered the way the CDN answers a client it does not trust, with
the shape and headers of the real answers:

- ``akamai``: ``403``, ``Server: AkamaiGHost``, ``Mime-Version: 1.0``, ``Content-Type: text/html``,
  ``Expires`` = ``Date``, ``Connection: close``, and the "Access Denied" page whose text is written
  in character references (``Reference&#32;&#35;18&#46;...``) with a fresh reference number per
  answer (``18.<edge>.<unix time>.<counter>``) and its errors.edgesuite.net link;
- ``cloudflare``: ``403``, ``Server: cloudflare``, ``CF-RAY: <ray>-IAD``, the "Attention Required! |
  Cloudflare" / "Sorry, you have been blocked" page naming the Ray ID;
- ``cloudflare-challenge``: ``403``, ``cf-mitigated: challenge``, the "Just a moment..." JavaScript
  challenge page (``window._cf_chl_opt`` with ``cRay``).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twisted.web.server import Request

KINDS = ("akamai", "cloudflare", "cloudflare-challenge")
#: the part of an Akamai reference naming the edge server (hex of its address, as the real ones)
AKAMAI_EDGE = "49d02e17"


def _entities(text: str) -> str:
    """Akamai's way of writing the page: punctuation and spaces as decimal character references."""
    return "".join(f"&#{ord(c)};" if c in ":/.# -" else c for c in text)


@dataclass
class BotWall:
    """Answers requests as the CDN ``kind`` refusing a crawler, after the first ``after`` ones."""

    kind: str
    after: int = 0
    seen: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"--botwall: one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.after < 0:
            raise ValueError("--botwall-after must be 0 or more")

    def blocks(self) -> bool:
        """Whether this request meets the wall (counts it)."""
        self.seen += 1
        return self.seen > self.after

    def answer(self, request: Request, host: str, uri: str) -> bytes:
        """Write the status and headers of the refusal on ``request``; return its body."""
        request.setResponseCode(403, b"Forbidden")
        headers, body = {"akamai": self._akamai, "cloudflare": self._cloudflare,
                         "cloudflare-challenge": self._challenge}[self.kind](host, uri)
        for name, value in headers:
            request.responseHeaders.setRawHeaders(name.encode("latin-1"), [value.encode("latin-1")])
        request.responseHeaders.setRawHeaders(b"content-length", [str(len(body)).encode("ascii")])
        return body

    def _ray(self) -> str:
        return hashlib.sha256(f"ray:{self.seen}".encode()).hexdigest()[:16]

    def _akamai(self, host: str, uri: str) -> tuple[list[tuple[str, str]], bytes]:
        reference = f"18.{AKAMAI_EDGE}.{int(time.time())}.{0x1c9116d2 + self.seen:x}"
        now = formatdate(usegmt=True)
        body = (
            "<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>\n<H1>Access Denied</H1>\n \n"
            f"You don't have permission to access \"{_entities(f'http://{host}{uri}')}\" on this server.<P>\n"
            f"{_entities(f'Reference #{reference}')}\n"
            f"<P>{_entities(f'https://errors.edgesuite.net/{reference}')}</P>\n"
            "</BODY>\n</HTML>\n"
        )
        headers = [("Server", "AkamaiGHost"), ("Mime-Version", "1.0"), ("Content-Type", "text/html"),
                   ("Expires", now), ("Date", now), ("Connection", "close")]
        return headers, body.encode("ascii")

    def _cloudflare(self, host: str, _uri: str) -> tuple[list[tuple[str, str]], bytes]:
        ray = self._ray()
        name = host.split(":")[0]
        body = (
            "<!DOCTYPE html>\n"
            "<!--[if lt IE 7]> <html class=\"no-js ie6 oldie\" lang=\"en-US\"> <![endif]-->\n"
            "<!--[if gt IE 8]><!--> <html class=\"no-js\" lang=\"en-US\"> <!--<![endif]-->\n<head>\n"
            "<title>Attention Required! | Cloudflare</title>\n<meta charset=\"UTF-8\" />\n"
            "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n"
            "<meta name=\"robots\" content=\"noindex, nofollow\" />\n"
            "<link rel=\"stylesheet\" id=\"cf_styles-css\" href=\"/cdn-cgi/styles/cf.errors.css\" />\n"
            "</head>\n<body>\n  <div id=\"cf-wrapper\">\n"
            "    <div id=\"cf-error-details\" class=\"cf-error-details-wrapper\">\n"
            "      <div class=\"cf-wrapper cf-header cf-error-overview\">\n"
            "        <h1 data-translate=\"block_headline\">Sorry, you have been blocked</h1>\n"
            "        <h2 class=\"cf-subheadline\"><span data-translate=\"unable_to_access\">You are unable "
            f"to access</span> {name}</h2>\n      </div>\n"
            "      <div class=\"cf-section cf-wrapper\"><div class=\"cf-columns two\">\n"
            "        <div class=\"cf-column\"><h2 data-translate=\"blocked_why_headline\">Why have I been "
            "blocked?</h2>\n          <p data-translate=\"blocked_why_detail\">This website is using a "
            "security service to protect itself from online attacks.</p></div>\n      </div></div>\n"
            "      <div class=\"cf-error-footer cf-wrapper w-240 lg:w-full py-10 sm:py-4 sm:px-8 mx-auto "
            "text-center sm:text-left border-solid border-0 border-t border-gray-300\">\n"
            "        <p class=\"text-13\">\n          <span class=\"cf-footer-item sm:block sm:mb-1\">"
            f"Cloudflare Ray ID: <strong class=\"font-semibold\">{ray}</strong></span>\n"
            "        </p>\n      </div>\n    </div>\n  </div>\n</body>\n</html>\n"
        )
        headers = [("Server", "cloudflare"), ("CF-RAY", f"{ray}-IAD"),
                   ("Content-Type", "text/html; charset=UTF-8"),
                   ("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate, "
                                     "post-check=0, pre-check=0"),
                   ("Expires", "Thu, 01 Jan 1970 00:00:01 GMT"), ("X-Frame-Options", "SAMEORIGIN"),
                   ("Referrer-Policy", "same-origin")]
        return headers, body.encode("utf-8")

    def _challenge(self, host: str, _uri: str) -> tuple[list[tuple[str, str]], bytes]:
        ray = self._ray()
        name = host.split(":")[0]
        body = (
            "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title>"
            "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\">"
            "<meta http-equiv=\"X-UA-Compatible\" content=\"IE=Edge\"><meta name=\"robots\" "
            "content=\"noindex,nofollow\"><meta name=\"viewport\" content=\"width=device-width,"
            "initial-scale=1\"></head><body><div class=\"main-wrapper\" role=\"main\"><div "
            f"class=\"main-content\"><h1 class=\"zone-name-title h1\">{name}</h1><noscript><div "
            "class=\"h2\"><span id=\"challenge-error-text\">Enable JavaScript and cookies to continue"
            "</span></div></noscript></div></div><script>(function(){window._cf_chl_opt={cvId: '3',"
            f"cZone: \"{name}\",cType: 'managed',cRay: '{ray}',cH: 'x',cUPMDTk: \"\\/?__cf_chl_tk=x\","
            "cFPWv: 'b'};}());</script></body></html>"
        )
        headers = [("Server", "cloudflare"), ("CF-RAY", f"{ray}-IAD"), ("cf-mitigated", "challenge"),
                   ("Content-Type", "text/html; charset=UTF-8"),
                   ("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate, "
                                     "post-check=0, pre-check=0"),
                   ("Expires", "Thu, 01 Jan 1970 00:00:01 GMT"), ("Cross-Origin-Embedder-Policy",
                                                                "require-corp"),
                   ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "SAMEORIGIN"),
                   ("critical-ch", "Sec-CH-UA-Bitness, Sec-CH-UA-Arch, Sec-CH-UA-Full-Version")]
        return headers, body.encode("utf-8")
