"""Content-Encoding on the real web: br and zstd pages, a gzip body with a stray CRLF, a coding nobody
decodes, a br decoder that does not work (pywb's brotlipy shadowing Scrapy's brotli).

The crawls are real ``archiver crawl`` subprocesses against the replica behind
``tests/coding_server.py``, which answers chosen article pages in a chosen coding; the WARCs are read
back with warcio and re-extracted with ``archiver reextract``.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import subprocess
import sys
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import brotli
import pytest
from backports import zstd
from warcio.archiveiterator import ArchiveIterator

from archiver.replica.process import RunningReplica, replica
from archiver.warc.compression import (
    UndecodableBodyError,
    UnsupportedEncodingError,
    advertise_problem,
    decode_content,
    decoder_problem,
    gunzip_members,
    strict_gunzip,
    working_encodings,
)

ROOT = Path(__file__).resolve().parent.parent
CODING_SERVER = ROOT / "tests" / "coding_server.py"
PAGE = b"<html><body>" + b"<p>The Secretary said the exercise went well.</p>\n" * 400 + b"</body></html>"
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "--progress", "0", "--no-wacz"]
#: stands in for brotlipy 0.7 (pywb's dependency): a ``brotli`` package whose Decompressor has
#: ``decompress``/``finish`` and no ``process``, the API Scrapy and the archiver call
BROTLIPY_SHIM = '''"""brotlipy's API: what shadowed the real brotli module when pywb shared the venv."""


class error(Exception):
    pass


class Decompressor:
    def decompress(self, data):
        raise error("brotlipy-style decompressor")

    def finish(self):
        return b""


def compress(data, *args, **kwargs):
    raise error("brotlipy-style compressor")
'''


# -- the decoders --------------------------------------------------------------------------------------


def test_the_venv_brotli_is_the_one_scrapy_decodes_with() -> None:
    """pywb's brotlipy used to replace it: Scrapy's own br decoder failed on every page."""
    from scrapy.utils._compression import _unbrotli

    assert _unbrotli(brotli.compress(PAGE)) == PAGE


def test_pywb_is_kept_out_of_the_product_venv() -> None:
    assert importlib.util.find_spec("pywb") is None
    assert importlib.util.find_spec("brotlipy") is None


def test_every_coding_is_advertised_when_its_decoder_and_warcio_work() -> None:
    # warcio 1.8.1 (pinned) cannot read br with Google's brotli: a br record breaks `warcio check`
    # and the WACZ indexer, so br is not asked for (the site then sends gzip)
    assert working_encodings() == [b"gzip", b"deflate", b"zstd"]
    assert decoder_problem(b"br") is None  # the crawl itself decodes br
    assert advertise_problem(b"br").startswith("warcio cannot read it (AttributeError")


def test_warcio_reads_br_once_repaired_in_process() -> None:
    """A br record sent although not asked for: the archiver's own warcio readers (WACZ indexer,
    verify) read it once repaired; run in a child so this process's warcio stays as installed."""
    code = (
        "import io, brotli\n"
        "from warcio.bufferedreaders import BufferedReader\n"
        "from archiver.warc.compression import repair_warcio_brotli\n"
        "assert repair_warcio_brotli()\n"
        "data = brotli.compress(b'page ' * 1000)\n"
        "assert BufferedReader(io.BytesIO(data), decomp_type='br').read() == b'page ' * 1000\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("tail", [b"\r\n", b"\n", b" \t\r\n", b"\0\0\0", b"<!-- IIS -->"])
def test_bytes_after_a_complete_gzip_member_are_ignored_and_counted(tail: bytes) -> None:
    data = gzip.compress(PAGE, mtime=0)
    assert gunzip_members(data + tail) == (PAGE, len(tail))
    assert strict_gunzip(data + tail) == PAGE
    assert decode_content(data + tail, [b"gzip"]).trailing == {"gzip": len(tail)}


def test_a_whole_gzip_body_has_nothing_trailing() -> None:
    assert decode_content(gzip.compress(PAGE), [b"gzip"]).trailing == {}


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_cut_streams_still_fail(coding: str) -> None:
    encoded = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress,
               "zstd": zstd.compress}[coding](PAGE)
    assert decode_content(encoded, [coding.encode()]).body == PAGE
    with pytest.raises(UndecodableBodyError, match=f"{coding} stream cut short"):
        decode_content(encoded[: len(encoded) * 2 // 3], [coding.encode()])


def test_a_broken_second_gzip_member_still_fails() -> None:
    first, second = gzip.compress(PAGE), gzip.compress(b"more")
    with pytest.raises(UndecodableBodyError, match="cut short"):
        strict_gunzip(first + second[:-4])


@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_garbage_after_a_br_or_zstd_stream_fails(coding: str) -> None:
    encoded = brotli.compress(PAGE) if coding == "br" else zstd.compress(PAGE)
    with pytest.raises(UndecodableBodyError, match=f"corrupt {coding} stream"):
        decode_content(encoded + b"\x00garbage", [coding.encode()])


def test_codings_are_undone_last_applied_first() -> None:
    assert decode_content(brotli.compress(gzip.compress(PAGE)), [b"gzip", b"br"]).body == PAGE
    assert decode_content(brotli.compress(gzip.compress(PAGE)), [b"gzip, br"]).body == PAGE
    assert decode_content(PAGE, [b"identity"]).body == PAGE


def test_an_unknown_coding_is_unsupported() -> None:
    with pytest.raises(UnsupportedEncodingError, match="unsupported Content-Encoding 'compress'"):
        decode_content(PAGE, [b"compress"])


def test_a_broken_br_decoder_is_found_by_the_probe(tmp_path: Path) -> None:
    probe = ("from archiver.warc.compression import working_encodings, decoder_problem; "
             "print(working_encodings()); print(decoder_problem(b'br'))")
    result = subprocess.run([sys.executable, "-c", probe], env=shim_env(tmp_path), capture_output=True,
                            text=True, timeout=60, cwd=ROOT, check=True)
    accepted, problem = result.stdout.splitlines()
    assert accepted == "[b'gzip', b'deflate', b'zstd']"
    assert problem == "AttributeError: 'Decompressor' object has no attribute 'process'"


# -- real crawls -----------------------------------------------------------------------------------------


def shim_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose ``brotli`` is brotlipy's API (put first on PYTHONPATH)."""
    shim = tmp_path / "brotlipy-shim"
    (shim / "brotli").mkdir(parents=True, exist_ok=True)
    (shim / "brotli" / "__init__.py").write_text(BROTLIPY_SHIM, "utf-8")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(shim), os.environ.get("PYTHONPATH"))
                                                        if p)}


@contextmanager
def coding_server(upstream: str, modes: dict[str, str]) -> Iterator[str]:
    """``tests/coding_server.py`` in front of ``upstream``; yields its base URL (no trailing slash)."""
    pairs = [f"{article_id}={mode}" for article_id, mode in modes.items()]
    proc = subprocess.Popen([sys.executable, str(CODING_SERVER), upstream, *pairs], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("serving "), line
        yield line.removeprefix("serving ").rstrip("/")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class Crawl:
    out: Path
    result: subprocess.CompletedProcess[str]
    ids: dict[str, str]  # mode -> article id
    truth: dict[str, dict[str, Any]]  # article id -> ground truth
    site: str

    @cached_property
    def articles(self) -> dict[str, dict[str, Any]]:
        lines = (self.out / "articles.jsonl").read_text("utf-8").splitlines()
        return {record["article_id"]: record for record in map(json.loads, lines)}

    @cached_property
    def failures(self) -> list[dict[str, Any]]:
        path = self.out / "failures.jsonl"
        return [json.loads(line) for line in path.read_text("utf-8").splitlines()] if path.exists() else []

    @cached_property
    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = json.loads((self.out / "report.json").read_text("utf-8"))["stats"]
        return stats

    @cached_property
    def log(self) -> str:
        return (self.out / "crawl.log").read_text("utf-8", errors="replace") + self.result.stderr

    def records(self, rec_type: str, article_id: str) -> list[Any]:
        """(headers, http headers, raw payload) of the article page's records of ``rec_type``."""
        found = []
        for path in sorted((self.out / "warc").glob("*.warc.gz")):
            with path.open("rb") as stream:
                for record in ArchiveIterator(stream, check_digests="raise"):
                    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                    if record.rec_type == rec_type and f"/Article/{article_id}/" in uri:
                        found.append((record.rec_headers, record.http_headers, record.raw_stream.read()))
        return found

    def failure_of(self, article_id: str) -> str:
        [reason] = [f["reason"] for f in self.failures if f"/{article_id}/" in f["url"]]
        return str(reason)


def crawl(site: RunningReplica, modes: list[str], work: Path, env: dict[str, str] | None = None) -> Crawl:
    """Crawl one article per mode (by id, through the coding server) into ``work/out``."""
    truth = {record["article_id"]: record for record in site.truth()}
    ids = dict(zip(modes, sorted(truth), strict=False))
    with coding_server(site.base, {article_id: mode for mode, article_id in ids.items()}) as base:
        out = work / "out"
        result = subprocess.run(
            [sys.executable, "-m", "archiver", "crawl", "--site", base, "--out", str(out),
             "--discovery", "ids", "--ids", ",".join(ids.values()), *FAST],
            capture_output=True, text=True, timeout=300, env=env, cwd=ROOT, check=False)
    return Crawl(out, result, ids, truth, base)


def reextract(inputs: list[Path], out: Path, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "archiver", "reextract", *map(str, inputs), "--out", str(out),
               "--jobs", "1"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=ROOT,
                          check=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningReplica]:
    with replica("--articles", "6", "--seed", "7", "--crawl-delay", "0",
                 truth_dir=tmp_path_factory.mktemp("coding-truth")) as running:
        yield running


@pytest.fixture(scope="module")
def coded(site: RunningReplica, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """A br (sent although not asked for: br is not advertised while warcio cannot read it), a zstd,
    a gzip+CRLF and a ``compress`` article, with every decoder working."""
    return crawl(site, ["br-always", "zstd", "gzip-crlf", "compress"], tmp_path_factory.mktemp("coded"))


@pytest.fixture(scope="module")
def shadowed(site: RunningReplica, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """The crawl in an environment whose br decoder does not work: a server that honours
    Accept-Encoding, and one that sends br anyway."""
    work = tmp_path_factory.mktemp("shadowed")
    return crawl(site, ["br", "br-always"], work, env=shim_env(work))


@pytest.mark.parametrize("mode", ["br-always", "zstd", "gzip-crlf"])
def test_encoded_articles_are_extracted(coded: Crawl, mode: str) -> None:
    article_id = coded.ids[mode]
    article, truth = coded.articles[article_id], coded.truth[article_id]
    assert (article["title"], article["body"]) == (truth["title"], truth["body"])


@pytest.mark.parametrize("mode", ["br-always", "zstd"])
def test_the_warc_holds_the_encoded_bytes_as_received(coded: Crawl, site: RunningReplica, mode: str) -> None:
    [(headers, http, payload)] = coded.records("response", coded.ids[mode])
    assert http.get_header("Content-Encoding") == mode.removesuffix("-always")
    page = identity_page(site, coded.site, headers.get_header("WARC-Target-URI"))
    assert payload == (brotli.compress(page) if mode == "br-always" else zstd.compress(page))  # what was sent


def identity_page(site: RunningReplica, base: str, url: str) -> bytes:
    """The replica's page at ``url`` as the coding server got it (its Host: the links point there)."""
    headers = {"Host": base.removeprefix("http://"), "Accept-Encoding": "identity"}
    request = urllib.request.Request(site.base + url.removeprefix(base), headers=headers)
    with urllib.request.urlopen(request, timeout=30) as answer:
        body: bytes = answer.read()
    return body


def test_requests_advertise_only_codings_the_archive_tools_read(coded: Crawl) -> None:
    [(_, http, _)] = coded.records("request", coded.ids["br-always"])
    assert http.get_header("Accept-Encoding") == "gzip, deflate, zstd"


def test_a_br_record_sent_anyway_is_packaged_and_verified(coded: Crawl) -> None:
    """warcio's own br reader fails (above): the WACZ and verify read the record all the same."""
    assert coded.records("response", coded.ids["br-always"])
    wacz = subprocess.run([sys.executable, "-m", "archiver", "wacz", str(coded.out)],
                          capture_output=True, text=True, check=False)
    assert wacz.returncode == 0, wacz.stdout + wacz.stderr
    verify = subprocess.run([sys.executable, "-m", "archiver", "verify", str(coded.out)],
                            capture_output=True, text=True, check=False)
    assert "Traceback" not in verify.stdout + verify.stderr


def test_a_gzip_body_with_a_stray_crlf_is_counted(coded: Crawl) -> None:
    [(_, _, payload)] = coded.records("response", coded.ids["gzip-crlf"])
    assert payload.endswith(b"\r\n")
    assert coded.stats["archiver/gzip/trailing_garbage"] == 1


def test_an_unknown_coding_fails_at_once_with_its_reason(coded: Crawl) -> None:
    article_id = coded.ids["compress"]
    assert article_id not in coded.articles
    assert coded.failure_of(article_id).startswith("unsupported Content-Encoding 'compress' (")
    assert len(coded.records("response", article_id)) == 1  # archived once, not retried
    assert coded.stats["archiver/encoding/unsupported"] == 1


def test_the_crawl_meets_no_traceback(coded: Crawl, shadowed: Crawl) -> None:
    assert coded.result.returncode == 1  # the compress article failed
    assert "Traceback" not in coded.log
    assert "Traceback" not in shadowed.log


def test_reextract_gives_the_records_of_the_crawl(coded: Crawl, tmp_path: Path) -> None:
    result = reextract([coded.out], tmp_path / "re")
    assert (tmp_path / "re" / "articles.jsonl").read_bytes() == (coded.out / "articles.jsonl").read_bytes()
    assert "Traceback" not in result.stderr
    report = json.loads((tmp_path / "re" / "reextract.json").read_text("utf-8"))
    [problem] = report["problems"]
    assert "unsupported Content-Encoding 'compress'; record skipped" in problem
    assert result.returncode == 1


def test_a_broken_br_decoder_is_not_advertised(shadowed: Crawl) -> None:
    [(_, http, _)] = shadowed.records("request", shadowed.ids["br"])
    assert http.get_header("Accept-Encoding") == "gzip, deflate, zstd"
    assert shadowed.stats["archiver/encoding/disabled/br"] == 1
    assert "Accept-Encoding leaves out br: its decoder does not work in this Python" in shadowed.log
    assert shadowed.articles[shadowed.ids["br"]]["title"] == shadowed.truth[shadowed.ids["br"]]["title"]


def test_br_sent_anyway_without_a_decoder_fails_with_the_reason(shadowed: Crawl) -> None:
    reason = shadowed.failure_of(shadowed.ids["br-always"])
    assert reason.startswith("cannot decode Content-Encoding 'br': its decoder does not work in this Python "
                             "(AttributeError: 'Decompressor' object has no attribute 'process')")
    assert len(shadowed.records("response", shadowed.ids["br-always"])) == 1


def test_reextract_without_a_br_decoder_reports_the_record_and_goes_on(coded: Crawl, tmp_path: Path) -> None:
    result = reextract([coded.out], tmp_path / "re", env=shim_env(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    report = json.loads((tmp_path / "re" / "reextract.json").read_text("utf-8"))
    assert [p for p in report["problems"] if "'br'" in p and "record skipped" in p]
    extracted = [json.loads(line)["article_id"] for line in (tmp_path / "re" / "articles.jsonl").open()]
    assert sorted(extracted) == sorted(coded.ids[mode] for mode in ("zstd", "gzip-crlf"))
