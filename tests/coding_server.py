"""A relay in front of the replica that answers article pages in a chosen Content-Encoding.

Run as a script: ``python tests/coding_server.py UPSTREAM [ID=MODE ...]`` serves on 127.0.0.1 and a
free port, and prints ``serving http://127.0.0.1:PORT/`` first. Every request is relayed to the
replica at UPSTREAM (with this server's Host, so the replica's links point here, and
``Accept-Encoding: identity``); the 200 answer for a URL holding ``/Article/<ID>/`` is re-encoded:

* ``br`` / ``zstd``  in that coding when the request's Accept-Encoding names it, else gzip when it
  names gzip, else identity (what a real server does)
* ``br-always``     br whatever the request accepts (a server that ignores Accept-Encoding)
* ``gzip-crlf``     gzip followed by a stray ``\\r\\n`` (a complete, CRC-valid member)
* ``compress``      labelled ``Content-Encoding: compress`` (a coding nobody decodes), bytes unchanged

Other answers are relayed as the replica sent them, identity-encoded.
"""

from __future__ import annotations

import gzip
import http.client
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ARTICLE_ID = re.compile(r"/Article/(\d+)/")
#: headers the relay sets itself
OWN_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "connection"})


def encode(mode: str, body: bytes, accepted: str) -> tuple[str, bytes]:
    """``(Content-Encoding, body)`` for ``mode``; ``""`` for identity."""
    accepts = {part.split(";")[0].strip().lower() for part in accepted.split(",")}
    if mode in {"br", "br-always"} and ("br" in accepts or mode == "br-always"):
        import brotli

        return "br", brotli.compress(body)
    if mode == "zstd" and "zstd" in accepts:
        from backports import zstd

        return "zstd", zstd.compress(body)
    if mode == "gzip-crlf":
        return "gzip", gzip.compress(body, mtime=0) + b"\r\n"
    if mode == "compress":
        return "compress", body
    if "gzip" in accepts:
        return "gzip", gzip.compress(body, mtime=0)
    return "", body


def handler(upstream: str, modes: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    parts = urlsplit(upstream)

    class Relay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in {"accept-encoding", "host"}}
            headers.update({"Host": self.headers.get("Host", ""), "Accept-Encoding": "identity"})
            connection.request("GET", self.path, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
            connection.close()
            coding = ""
            match = ARTICLE_ID.search(self.path)
            if answer.status == 200 and body and match and match.group(1) in modes:
                coding, body = encode(modes[match.group(1)], body, self.headers.get("Accept-Encoding", ""))
            self.send_response_only(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in OWN_HEADERS:
                    self.send_header(name, value)
            if coding:
                self.send_header("Content-Encoding", coding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Relay


def main(argv: list[str]) -> None:
    upstream, *pairs = argv
    modes = dict(pair.split("=", 1) for pair in pairs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(upstream, modes))
    sys.stdout.write(f"serving http://127.0.0.1:{server.server_address[1]}/\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
