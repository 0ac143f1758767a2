"""Hostile input: every case of tests/fixtures/hostile/ met by a real crawl over HTTP on 127.0.0.1.

Each case folder holds ``info.json`` (what it is, where the replica serves it with ``--hostile``,
which crawl meets it, what must happen) and its bytes. Cases are grouped by the crawl that meets
them: ``listing`` (``--sections archive``: a listing page linking every listing case), ``rss``,
``sitemap``, ``urls`` (``scrapy crawl ids -a urls_file=...``) and ``settings`` (file names from
settings and from files of the output folder). One crawl per group; one test per case; and per
group: the crawl goes on to its end, every WARC is valid with clean headers, nothing is written
outside the output folder, no canary URL is asked for, no local file leaks into the outputs.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from archiver.replica.corpus import Corpus, CorpusOptions
from archiver.replica.faults import HostileCases
from archiver.replica.process import RunningReplica, replica
from tests.harness import jsonl, warc_files, warc_records

FIXTURES = Path(__file__).parent / "fixtures" / "hostile"
CASES = sorted(p.parent.name for p in FIXTURES.glob("*/info.json"))
GROUPS = ("listing", "rss", "sitemap", "urls", "settings")
REPLICA_ARGS = ("--articles", "30", "--seed", "7")
ESCAPES = ("/tmp/hostile-escape", "/tmp/hostile-escape-worker", "/tmp/hostile-escape-run")
PASSWD = "root:x:0:0"
CANARY = "/hostile/canary/"
FAST = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
        "DOWNLOAD_TIMEOUT": "20"}
WARC_TYPES = {"warcinfo", "request", "response", "revisit", "conversion", "metadata", "resource"}


def info(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name / "info.json").read_text("utf-8"))
    return data


@dataclass
class Site:
    """The replica serving the hostile corpus, and the same corpus to fill placeholders with."""

    running: RunningReplica
    cases: HostileCases

    def fill(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.cases.fill(value, self.running.base)
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        return value

    def requested(self) -> list[str]:
        with urllib.request.urlopen(self.running.base + "/hostile/requests.json", timeout=30) as answer:
            return list(json.load(answer))


@dataclass
class Run:
    """One group's crawl and its outputs."""

    work: Path
    result: subprocess.CompletedProcess[str]
    requested: list[str] = field(default_factory=list)

    @property
    def out(self) -> Path:
        return self.work / "out"

    @cached_property
    def log(self) -> str:
        return (self.out / "crawl.log").read_text("utf-8", errors="replace")

    @cached_property
    def articles(self) -> list[dict]:
        return jsonl(self.out / "articles.jsonl", missing_ok=True)

    @cached_property
    def failures(self) -> list[dict]:
        return jsonl(self.out / "failures.jsonl", missing_ok=True)

    @cached_property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.out / "report.json").read_text("utf-8"))
        return data

    @cached_property
    def records(self) -> list[dict[str, Any]]:
        return list(_records(self.out))

    @cached_property
    def outputs_text(self) -> str:
        """What the crawl wrote of its own, as text, to look for leaks: logs, JSON outputs, every
        WARC header, request and conversion record. Response payloads are left out: they hold the
        pages as the server sent them (a listing that links with a password keeps that link)."""
        parts = [self.log, json.dumps(self.articles), json.dumps(self.failures), json.dumps(self.report)]
        for record in self.records:
            parts.append(json.dumps(record["headers"]))
            if record["type"] != "response":
                parts.append(record["raw"].decode("latin-1"))
        return "\n".join(parts)

    def article_ids(self) -> set[str]:
        return {a["article_id"] for a in self.articles}


def _records(out: Path) -> Iterator[dict[str, Any]]:
    for _path, _iterator, record in warc_records(warc_files(out)):
        yield {"type": record.rec_type, "headers": list(record.rec_headers.headers),
               "uri": record.rec_headers.get_header("WARC-Target-URI") or "",
               "raw": _raw_record(record)}


def _raw_record(record: Any) -> bytes:
    """A request record with its HTTP head; other records' payloads."""
    head = record.http_headers.to_bytes() if record.http_headers is not None else b""
    return bytes(head + record.raw_stream.read())


class Runs:
    """The crawl of each group, run once when a test first needs it."""

    def __init__(self, site: Site, root: Path) -> None:
        self.site = site
        self.root = root
        self._runs: dict[str, Run] = {}

    def get(self, group: str) -> Run:
        if group not in self._runs:
            self._runs[group] = self._crawl(group)
        return self._runs[group]

    def _crawl(self, group: str) -> Run:
        work = self.root / group
        (work / "out").mkdir(parents=True)
        command, settings = self._command(group, work)
        args = [arg for name, value in {**FAST, **settings}.items() for arg in ("-s", f"{name}={value}")]
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "archiver.settings"}
        # cwd is the group's own folder: anything written outside out/ would show up next to it
        result = subprocess.run([*command, *args], capture_output=True, text=True, timeout=600,
                                cwd=work, env=env)
        return Run(work, result, self.site.requested())

    def _command(self, group: str, work: Path) -> tuple[list[str], dict[str, str]]:
        base = self.site.running.base
        crawl = [sys.executable, "-m", "archiver", "crawl", "--site", base, "--out", "out", "--progress", "0"]
        if group == "listing":
            return [*crawl, "--sections", "archive", "--max-pages", "1"], {}
        if group == "listing-inline":  # the same crawl, extraction and pipelines on the reactor thread
            return [*crawl, "--sections", "archive", "--max-pages", "1"], {"ARCHIVER_EXTRACT_WORKERS": "0"}
        if group in {"rss", "sitemap"}:
            return [*crawl, "--discovery", group], {}
        if group == "urls":
            return self._urls_command(base), {"ARCHIVER_OUT_DIR": "out", "LOG_FILE": "out/crawl.log"}
        return self._settings_command(crawl, work)

    def _urls_command(self, base: str) -> list[str]:
        lines = [self.site.fill(info(name)["url_line"]) for name in CASES if "url_line" in info(name)]
        urls_file = self.root / "urls.txt"  # outside every crawl's folder, like a user's own file
        urls_file.write_text("\n".join(lines) + "\n", "utf-8")
        return [str(Path(sys.executable).parent / "scrapy"), "crawl", "ids", "-a", f"site={base}",
                "-a", f"urls_file={urls_file}"]

    def _settings_command(self, crawl: list[str], work: Path) -> tuple[list[str], dict[str, str]]:
        settings: dict[str, str] = {}
        for name in CASES:
            case = info(name)
            if case["group"] != "settings":
                continue
            settings.update(case.get("settings", {}))
            for file_name, text in case.get("prepare", {}).items():
                (work / "out" / file_name).write_text(text, "utf-8")
        ids = ",".join(self.site.fill(f"{{{{id:{n}}}}}") for n in range(3))
        return [*crawl, "--discovery", "ids", "--ids", ids], settings


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    corpus = Corpus(CorpusOptions(seed=7, articles=30))
    with replica(*REPLICA_ARGS, "--crawl-delay", "0", "--hostile", str(FIXTURES)) as running:
        yield Site(running, HostileCases.load(FIXTURES, corpus))


@pytest.fixture(scope="module")
def runs(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return Runs(site, tmp_path_factory.mktemp("hostile"))


# -- the corpus -------------------------------------------------------------------------------------


def test_corpus_has_at_least_thirty_cases_in_known_groups() -> None:
    assert len(CASES) >= 30
    for name in CASES:
        case = info(name)
        assert case["group"] in GROUPS, name
        assert case["description"], name
        assert case["expect"]["outcome"] in OUTCOMES


# -- every group: the crawl goes on, the archive stays valid and inside its folder ----------------


@pytest.mark.parametrize("group", GROUPS)
def test_crawl_goes_on_to_its_end(runs: Runs, group: str) -> None:
    run = runs.get(group)
    assert run.report["finish_reason"] == "finished", run.result.stderr[-3000:]
    assert run.result.returncode in {0, 1}, run.result.stderr[-3000:]
    assert "Traceback" not in run.log, run.log[run.log.find("Traceback") - 500:][:4000]


@pytest.mark.parametrize("group", GROUPS)
def test_warcs_are_valid_and_headers_clean(runs: Runs, group: str) -> None:
    run = runs.get(group)
    warcs = sorted((run.out / "warc").glob("*.warc.gz"))
    assert warcs
    check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", *map(str, warcs)],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
    assert run.records
    for record in run.records:
        names = [name for name, _ in record["headers"]]
        assert names.count("WARC-Type") == 1
        assert names.count("WARC-Record-ID") == 1
        assert dict(record["headers"])["WARC-Type"] in WARC_TYPES
        assert not any(c in record["uri"] for c in " \r\n\t")


@pytest.mark.parametrize("group", GROUPS)
def test_nothing_is_written_outside_the_output_folder(runs: Runs, group: str) -> None:
    run = runs.get(group)
    assert sorted(p.name for p in run.work.iterdir()) == ["out"]
    for escape in ESCAPES:
        assert not Path(escape).exists(), escape
    assert not [p for p in run.out.rglob("*") if not p.resolve().is_relative_to(run.out.resolve())]


@pytest.mark.parametrize("group", GROUPS)
def test_no_canary_asked_and_no_local_file_leaked(runs: Runs, group: str) -> None:
    run = runs.get(group)
    assert not [uri for uri in run.requested if uri.startswith(CANARY)]
    assert PASSWD not in run.outputs_text


# -- every case ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_hostile_case(name: str, runs: Runs, site: Site) -> None:
    case = info(name)
    run = runs.get(case["group"])
    expect = site.fill(case["expect"])
    OUTCOMES[expect["outcome"]](run, expect)
    for key, check in EXTRA_CHECKS.items():
        if key in expect:
            check(run, expect)


def _is_article(run: Run, expect: dict[str, Any]) -> None:
    found = [a for a in run.articles if a["article_id"] == expect["article_id"]]
    assert len(found) == 1, (expect, run.failures)
    if "body_contains" in expect:
        assert expect["body_contains"] in found[0]["body"]


def _failure_of(run: Run, expect: dict[str, Any]) -> dict | None:
    for failure in run.failures:
        if failure["url"] == expect.get("url") or expect.get("url_contains", "\0") in failure["url"]:
            return failure
    return None


def _is_failure(run: Run, expect: dict[str, Any]) -> None:
    failure = _failure_of(run, expect)
    assert failure is not None, (expect, [f["url"][:200] for f in run.failures])
    assert expect["reason"] in failure["reason"], failure


def _is_settled(run: Run, expect: dict[str, Any]) -> None:
    """Either outcome is fine, as long as there is one, and a failure says why."""
    article = expect["article_id"] in run.article_ids()
    failures = [f for f in run.failures if f"/{expect['article_id']}/" in f["url"]]
    assert article != bool(failures), (article, failures)
    assert all(f["reason"].strip() for f in failures)


def _is_ignored(run: Run, expect: dict[str, Any]) -> None:
    assert not [f for f in run.failures for marker in expect["not_fetched"] if marker in f["url"]]


def _is_logged(run: Run, expect: dict[str, Any]) -> None:
    assert expect["log"] in run.log


def _is_inside(run: Run, expect: dict[str, Any]) -> None:
    assert not Path(expect["no_path"]).exists()
    if "warc_name_contains" in expect:
        names = [p.name for p in (run.out / "warc").iterdir()]
        assert any(expect["warc_name_contains"] in n for n in names), names


def _is_kept(run: Run, expect: dict[str, Any]) -> None:
    """The record of the page at ``url`` is in this run's records (changes.jsonl), with the id the
    page gives; the dataset (articles.jsonl) keeps one article per id."""
    changes = [json.loads(line) for line in (run.out / "changes.jsonl").read_text("utf-8").splitlines()]
    found = [a for a in changes if a["url"] == expect["url"]]
    assert len(found) == 1, (expect, [f for f in run.failures if f["url"] == expect["url"]])
    assert found[0]["article_id"] == expect["article_id"]
    same_id = [a for a in changes if a["article_id"] == expect["article_id"]]
    assert len(same_id) == expect["records_with_id"]
    # the dataset keeps the article's own page (its URL carries the id), whatever the crawl's order
    assert [a["url"] for a in run.articles if a["article_id"] == expect["article_id"]] == [
        a["url"] for a in same_id if a["url"] != expect["url"]]


def _is_duplicate(run: Run, expect: dict[str, Any]) -> None:
    """One page of ``urls`` is in articles.jsonl, the other a reported duplicate, neither a failure."""
    kept = [a["url"] for a in run.articles if a["article_id"] == expect["article_id"]]
    assert len(kept) == 1, kept
    assert kept[0] in expect["urls"]
    assert not [f for f in run.failures if f["url"] in expect["urls"]]
    assert run.report["counts"]["duplicates"] >= 1


OUTCOMES = {"article": _is_article, "failure": _is_failure, "settled": _is_settled,
            "ignored": _is_ignored, "logged": _is_logged, "inside": _is_inside,
            "kept": _is_kept, "duplicate": _is_duplicate}


def _not_in_outputs(run: Run, expect: dict[str, Any]) -> None:
    for text in expect["not_in_outputs"]:
        assert text not in run.outputs_text, text


def _never_requested(run: Run, expect: dict[str, Any]) -> None:
    for prefix in expect["never_requested"]:
        assert not [uri for uri in run.requested if uri.startswith(prefix)]


def _not_fetched(run: Run, expect: dict[str, Any]) -> None:
    for marker in expect["not_fetched"]:
        assert not [r for r in run.records if marker in r["uri"]], marker
        assert not [uri for uri in run.requested if marker in uri], marker


def _truncated_record(run: Run, expect: dict[str, Any]) -> None:
    """A response record of ``url`` marked ``WARC-Truncated`` (``disconnect``, or the reason given)."""
    reason = expect["truncated_record"] if isinstance(expect["truncated_record"], str) else "disconnect"
    marked = [r for r in run.records if r["type"] == "response" and r["uri"] == expect["url"]
              and dict(r["headers"]).get("WARC-Truncated") == reason]
    assert marked, [(r["type"], dict(r["headers"]).get("WARC-Truncated")) for r in run.records
                    if r["uri"] == expect["url"]]


def _no_revisit(run: Run, expect: dict[str, Any]) -> None:
    """Every capture of ``url`` is a response record (a revisit would refer to nothing)."""
    kinds = [r["type"] for r in run.records if r["uri"] == expect["url"] and r["type"] != "request"]
    assert kinds, expect["url"]
    assert set(kinds) == {"response"}, kinds


def _has_log(run: Run, expect: dict[str, Any]) -> None:
    assert expect["log"] in run.log


EXTRA_CHECKS = {"not_in_outputs": _not_in_outputs, "never_requested": _never_requested,
                "not_fetched": _not_fetched, "truncated_record": _truncated_record, "log": _has_log,
                "no_revisit": _no_revisit}


def _same_across_runs(records: list[dict], *, vary: frozenset[str] = frozenset()) -> list[str]:
    """Records as two runs of the same site must both write them, leaving out the run's times and
    WARC places and the fields in ``vary``."""
    left_out = {"fetched_at", "warc", "time"} | vary
    return sorted(json.dumps({k: v for k, v in r.items() if k not in left_out}, sort_keys=True)
                  for r in records)


def test_pipeline_drops_in_extraction_workers_are_reported_as_in_the_crawl_process(runs: Runs) -> None:
    """The cleaning pipelines run in the extraction workers (archiver/runtime/extractpool.py): what they drop
    there reaches failures.jsonl, Scrapy's drop counts and the pipelines' stats as when they run in
    the crawl process."""
    workers, inline = runs.get("listing"), runs.get("listing-inline")
    assert inline.report["finish_reason"] == "finished", inline.result.stderr[-3000:]
    test_warcs_are_valid_and_headers_clean(runs, "listing-inline")
    assert any(f["reason"].startswith("dropped: validate:") for f in workers.failures)  # in a worker
    assert _same_across_runs(workers.failures) == _same_across_runs(inline.failures)
    # of two pages carrying one article (article-same-id-alias and its copy) the first answered is
    # kept, so its ``url`` may be either page's; ``canonical_url`` and the rest must agree
    assert (_same_across_runs(workers.articles, vary=frozenset({"url"}))
            == _same_across_runs(inline.articles, vary=frozenset({"url"})))

    def counts(run: Run) -> dict[str, Any]:
        return {k: v for k, v in run.report["stats"].items()
                if k.startswith(("archiver/", "item_dropped", "item_scraped")) and "/extract/" not in k}

    assert counts(workers) == counts(inline)
    assert counts(workers)["item_dropped_count"] > 0


#: listing cases whose archived bytes re-extraction must meet as the crawl did (issue 15)
REEXTRACTED = ("article-charset-utf16-label", "article-other-id", "article-same-id-alias",
               "article-same-id-alias-copy", "article-maxsize-length", "article-maxsize-chunked")


def test_reextract_meets_these_pages_as_the_crawl_did(runs: Runs, site: Site, tmp_path: Path) -> None:
    """``archiver reextract`` over the listing crawl's WARC: the charset decision, the duplicate
    filter and truncated bodies (never extracted) give the crawl's records for these cases."""
    from archiver.offline.reextract import reextract
    from archiver.offline.sources import resolve_inputs

    run = runs.get("listing")
    reextract(resolve_inputs([run.out]), tmp_path)
    again = {a["url"]: a for a in jsonl(tmp_path / "articles.jsonl", missing_ok=True)}
    for name in REEXTRACTED:
        url = site.running.base + info(name)["serve"]["path"]
        crawled = [a for a in run.articles if a["url"] == url]
        assert ([again[url]] if url in again else []) == crawled, name
    utf16 = site.running.base + info("article-charset-utf16-label")["serve"]["path"]
    assert "Café talks — déjà vu" in again[utf16]["body"]


def test_gzip_bomb_is_small_on_the_wire(site: Site) -> None:
    with urllib.request.urlopen(site.running.base + "/hostile/sitemap-bomb.xml.gz", timeout=30) as answer:
        data = answer.read()
    assert len(data) < 200_000
    assert len(gzip.decompress(data)) == 64 * 1024 * 1024
