"""Test archive servers with the Internet Archive's and Common Crawl's APIs, plus fault injection.

Run as a script (``python tests/archive_front.py CONFIG.json``) it serves on 127.0.0.1, a free port,
and prints ``serving http://127.0.0.1:PORT/`` first. ``CONFIG`` (JSON):

* ``"mode": "wayback"``, ``"pywb": "<collection URL>"``: the Wayback Machine's CDX API
  (``/cdx/search/cdx``, ``output=json`` rows with a header row, ``limit`` + ``showResumeKey`` /
  ``resumeKey`` paging), answered from a real pywb's CDX; raw captures ``/web/<ts>id_/<url>`` are
  the pywb's, passed through (status, headers, body as pywb sent them).
* ``"mode": "commoncrawl"``, ``"crawls": {"CC-MAIN-2099-01": "index.jsonl", ...}``, ``"data": DIR``:
  ``/collinfo.json``, ``/<crawl>-index`` (pywb's ``showNumPages`` / ``page`` paging, ``pageSize``
  lines a page, ``from``/``to``, ``=``/``~`` filters) and ``/data/<file>`` with Range support.
* ``"faults"``: ``[{"match": REGEX, "status": 429, "headers": {...}, "times": N, "truncate": BYTES,
  "bad_lines": true}]``: the first ``times`` requests (-1: all) whose path and query match get that
  status (or a Range answer cut to ``truncate`` bytes, or a CDX page with broken lines added).
* ``"log"``: a file each request line is appended to (the tests read which queries were asked).
"""

from __future__ import annotations

import json
import re
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from pywb.utils.canonicalize import canonicalize

WAYBACK_HEADER = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]


class Front:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.faults = [dict(rule, seen=0) for rule in config.get("faults", [])]

    def fault(self, target: str) -> dict[str, Any] | None:
        with self.lock:
            log = self.config.get("log")
            if log:
                with Path(log).open("a") as fh:
                    fh.write(target + "\n")
            for rule in self.faults:
                if re.search(rule["match"], target) and (
                    rule.get("times", 1) < 0 or rule["seen"] < rule.get("times", 1)
                ):
                    rule["seen"] += 1
                    return rule
        return None


def _pywb_rows(collection: str, params: dict[str, str]) -> list[dict[str, Any]]:
    query = {"url": params["url"], "matchType": params.get("matchType", "exact"), "output": "json"}
    for name in ("from", "to"):
        if params.get(name):
            query[name] = params[name]
    with urllib.request.urlopen(f"{collection}/cdx?{urlencode(query)}", timeout=30) as answer:
        return [json.loads(line) for line in answer.read().splitlines() if line.strip()]


def _ia_filter(rows: list[list[str]], filters: list[str]) -> list[list[str]]:
    for spec in filters:  # the IA's filters: [!]field:regex
        invert = spec.startswith("!")
        field, _, pattern = spec.lstrip("!").partition(":")
        column = WAYBACK_HEADER.index(field)
        rows = [r for r in rows if bool(re.match(pattern, r[column])) != invert]
    return rows


def _pywb_filter(rows: list[dict[str, Any]], filters: list[str]) -> list[dict[str, Any]]:
    for spec in filters:  # pywb's: =field:exact, ~field:regex, field:contains
        mode = spec[0] if spec[0] in "=~" else ""
        field, _, value = spec[len(mode) :].partition(":")
        if mode == "=":
            rows = [r for r in rows if str(r.get(field, "")) == value]
        elif mode == "~":
            rows = [r for r in rows if re.match(value, str(r.get(field, "")))]
        else:
            rows = [r for r in rows if value in str(r.get(field, ""))]
    return rows


class Handler(BaseHTTPRequestHandler):
    front: Front
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def send(
        self,
        status: int,
        body: bytes,
        headers: list[tuple[str, str]] | None = None,
        content_type: str = "application/json",
    ) -> None:
        self.send_response(status)
        names = {name.lower() for name, _ in headers or []}
        if "content-type" not in names:
            self.send_header("Content-Type", content_type)
        for name, value in headers or []:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        lists = parse_qs(parts.query)
        rule = self.front.fault(self.path)
        if rule and rule.get("status"):
            headers = list(rule.get("headers", {}).items())
            self.send(int(rule["status"]), b"fault", headers, "text/plain")
            return
        config = self.front.config
        if config["mode"] == "wayback":
            self.wayback(parts.path, params, lists, rule)
        else:
            self.commoncrawl(parts.path, params, lists, rule)

    # -- the Wayback Machine --------------------------------------------------------------------------

    def wayback(
        self, path: str, params: dict[str, str], lists: dict[str, list[str]], rule: dict[str, Any] | None
    ) -> None:
        collection = self.front.config["pywb"].rstrip("/")
        if path == "/cdx/search/cdx":
            rows = [
                [
                    str(r.get("urlkey", "")),
                    str(r["timestamp"]),
                    str(r["url"]),
                    str(r.get("mime", "")),
                    str(r.get("status", "")),
                    str(r.get("digest", "")),
                    str(r.get("length", "")),
                ]
                for r in _pywb_rows(collection, params)
            ]
            rows = _ia_filter(rows, lists.get("filter", []))
            start = int(params.get("resumeKey", "0") or 0)
            limit = int(params.get("limit", "1000000"))
            page: list[Any] = [WAYBACK_HEADER, *rows[start : start + limit]]
            if rule and rule.get("bad_lines"):
                page[1:1] = [
                    ["only", "three", "fields"],
                    [
                        "gov,defense)/x",
                        "20XX0101",
                        "https://www.defense.gov/News/Article/Article/1/",
                        "text/html",
                        "200",
                        "D",
                        "1",
                    ],
                ]
            if start + limit < len(rows) and params.get("showResumeKey") == "true":
                page += [[], [str(start + limit)]]
            self.send(200, json.dumps(page).encode())
            return
        if path.startswith("/web/"):
            target = self.path[len("/web/") :]
            try:
                with urllib.request.urlopen(f"{collection}/{target}", timeout=30) as answer:
                    status, headers, body = answer.status, list(answer.headers.items()), answer.read()
            except urllib.error.HTTPError as error:
                status, headers, body = error.code, list(error.headers.items()), error.read()
            self.send(status, body, headers)
            return
        self.send(404, b"not found", content_type="text/plain")

    # -- Common Crawl ---------------------------------------------------------------------------------

    def commoncrawl(
        self, path: str, params: dict[str, str], lists: dict[str, list[str]], rule: dict[str, Any] | None
    ) -> None:
        config = self.front.config
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if path == "/collinfo.json":
            infos = [
                {
                    "id": crawl,
                    "name": crawl,
                    "cdx-api": f"{base}/{crawl}-index",
                    "from": info["from"],
                    "to": info["to"],
                }
                for crawl, info in config["crawls"].items()
            ]
            self.send(200, json.dumps(infos).encode())
            return
        match = re.fullmatch(r"/(CC-MAIN-\d{4}-\d{2})-index", path)
        if match and match.group(1) in config["crawls"]:
            self.cc_index(config["crawls"][match.group(1)], params, lists, rule)
            return
        if path.startswith("/data/"):
            self.cc_data(Path(config["data"]) / path[len("/data/") :], rule)
            return
        self.send(404, b"not found", content_type="text/plain")

    def cc_index(
        self,
        info: dict[str, Any],
        params: dict[str, str],
        lists: dict[str, list[str]],
        rule: dict[str, Any] | None,
    ) -> None:
        rows = [json.loads(line) for line in Path(info["index"]).read_text().splitlines() if line.strip()]
        key = canonicalize(params["url"]).rstrip("/") if params.get("matchType") == "prefix" else None
        rows = [r for r in rows if key is None or r["urlkey"].startswith(key)]
        rows = [
            r
            for r in rows
            if r["timestamp"][: len(params.get("from", ""))] >= params.get("from", "")
            and r["timestamp"][: len(params.get("to", "9"))] <= params.get("to", "9")
        ]
        rows = _pywb_filter(rows, lists.get("filter", []))
        size = int(self.front.config.get("page_size", 2))
        if not rows:
            self.send(404, json.dumps({"message": "No Captures found for: " + params["url"]}).encode())
            return
        if params.get("showNumPages") == "true":
            self.send(
                200, json.dumps({"pages": -(-len(rows) // size), "pageSize": size, "blocks": 1}).encode()
            )
            return
        number = int(params.get("page", "0"))
        lines = [json.dumps(r) for r in rows[number * size : (number + 1) * size]]
        if rule and rule.get("bad_lines"):
            lines.insert(0, "{not json")
        self.send(200, ("\n".join(lines) + "\n").encode(), content_type="text/x-ndjson")

    def cc_data(self, path: Path, rule: dict[str, Any] | None) -> None:
        if not path.is_file():
            self.send(404, b"not found", content_type="text/plain")
            return
        data = path.read_bytes()
        wanted = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        if not wanted:
            self.send(200, data, content_type="application/octet-stream")
            return
        start, end = int(wanted.group(1)), int(wanted.group(2))
        body = data[start : end + 1]
        if rule and rule.get("truncate") is not None:
            body = body[: int(rule["truncate"])]  # a short answer, honestly framed
        self.send(
            206, body, [("Content-Range", f"bytes {start}-{end}/{len(data)}")], "application/octet-stream"
        )


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    Handler.front = Front(config)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"serving http://127.0.0.1:{server.server_address[1]}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
