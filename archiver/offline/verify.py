"""Verify a crawl folder: the WARCs, articles.jsonl, the CDXJ indexes and the WACZ agree.

Checks, each problem named by file and offset (or line):

- every ``warc/*.warc.gz`` is a sequence of complete gzip members holding WARC records, each
  record's block and payload digests hold (what ``warcio check`` verifies), the file starts with a
  ``warcinfo``; ``*.open`` files left by a crash are reported;
- every line of ``articles.jsonl`` is JSON and valid against ``article.schema.json``; its ``warc``
  pointer resolves: one gzip member at ``offset`` of ``length`` bytes, holding a response (or
  revisit) record with that ``WARC-Record-ID``, ``WARC-Payload-Digest``, target URI and WARC-Date;
- every line of ``indexes/<name>.cdxj`` (or of a merged folder's ``indexes/index.cdxj``) points at
  a response/revisit record with the URL, time, status, digest and length it states, and every
  such record is indexed;
- every revisit's original (``WARC-Refers-To``) is a record of the folder's WARCs (or of the
  folders given as ``others``: crawls sharing one ``ARCHIVER_STATE_PATH``);
- ``archive.wacz``: each resource's sha256 and size match ``datapackage.json`` (itself matching
  ``datapackage-digest.json``), its WARCs are byte-identical to ``warc/``, its index has one line per
  indexed record, ``pages.jsonl`` one page per article of the dataset;
- ``articles.jsonl`` is a dataset: every article once, in the order of
  :func:`archiver.runtime.dataset.sort_key` (``article_id``).

Memory: the CDXJ of one WARC at a time (bounded by the rollover size), not the whole archive.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import tempfile
import zipfile
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from warcio.recordloader import ArcWarcRecord

from archiver.offline.members import Member, MemberError, MemberReader, MemberWalk, WarcSource, reader_for
from archiver.offline.pages import header, parse_record, status_of
from archiver.offline.sources import InputError, resolve_inputs
from archiver.warc.index import cdxj_path_for

logger = logging.getLogger(__name__)

ARTICLES_FILE = "articles.jsonl"
WACZ_FILE = "archive.wacz"
#: ``archiver merge``'s single index over every WARC of the folder (archiver/distributed/merge.py)
MERGED_INDEX = "index.cdxj"
INDEXED_TYPES = frozenset({"response", "revisit", "resource"})
POINTED_TYPES = frozenset({"response", "revisit"})
DEFAULT_MAX_PROBLEMS = 1000
_HASH_CHUNK = 1024 * 1024
_OPEN_READERS = 8


@dataclass
class VerifyReport:
    """Findings: one summary line per check and the problems (the first ``max_problems`` kept)."""

    root: Path
    max_problems: int = DEFAULT_MAX_PROBLEMS
    summary: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def problem(self, where: str, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(f"{where}: {message}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.root),
            "ok": self.ok,
            "summary": self.summary,
            "problem_count": self.problem_count,
            "problems": self.problems,
            "counts": dict(sorted(self.counts.items())),
        }


@dataclass
class WarcFacts:
    """What the WARC pass learnt about one file (for the WACZ check)."""

    size: int
    sha256: str = ""
    indexed_records: int = 0
    #: metadata records the ``wacz`` tool indexed besides (cdxj-indexer: not ``application/warc-fields``;
    #: a harvest's provenance records), counted in a WACZ built by that tool only
    wacz_metadata: int = 0


def verify(root: Path, max_problems: int = DEFAULT_MAX_PROBLEMS,
           others: Sequence[Path] = ()) -> VerifyReport:
    """Run every check on the crawl folder ``root``; ``others``: folders whose WARCs may hold the
    originals of ``root``'s revisits (crawls that share one ``ARCHIVER_STATE_PATH``)."""
    report = VerifyReport(root, max_problems)
    revisits = RevisitCheck()
    facts = check_warcs(root, report, revisits)
    revisits.resolve(root, others, report)
    check_orphan_indexes(root, facts, report)
    check_articles(root, report)
    check_wacz(root, facts, report)
    return report


# -- WARC files and their CDXJ ---------------------------------------------------------------------


def check_warcs(
    root: Path, report: VerifyReport, revisits: RevisitCheck | None = None
) -> dict[str, WarcFacts]:
    warc_dir = root / "warc"
    for leftover in sorted(warc_dir.glob("*.warc.gz.open")):
        report.problem(
            _rel(root, leftover),
            "unfinished WARC (.open) left by a crawl that did not close it; "
            "see archiver.warc.writer.repair_open_file",
        )
    facts: dict[str, WarcFacts] = {}
    indexes = 0
    warcs = sorted(warc_dir.glob("*.warc.gz"))
    with MergedIndex.open(root, {path.name for path in warcs}, report) as merged:
        for path in warcs:
            index = merged.index_of(path) if merged is not None else load_cdxj(root, path, report)
            indexes += index is not None
            facts[path.name] = check_warc(root, path, index, report, revisits)
    records = sum(v for k, v in report.counts.items() if k.startswith("records/"))
    damaged = report.counts["records/damaged"] + report.counts["digests/failed"]
    report.summary.append(
        f"WARC     {len(facts)} file(s), {records} records"
        + (f", {damaged} damaged or failing digests" if damaged else ", all digests hold")
    )
    if not facts:
        report.problem(_rel(root, warc_dir), "no WARC files")
    if facts and not indexes:
        report.summary.append("CDXJ     no indexes/*.cdxj (skipped)")
    elif facts:
        report.summary.append(f"CDXJ     {indexes} file(s), {report.counts['cdxj/lines']} lines checked")
    return facts


@dataclass
class CdxjEntry:
    line: int
    timestamp: str
    fields: dict[str, Any]


@dataclass
class CdxjIndex:
    path: Path
    by_offset: dict[int, CdxjEntry]


class MergedIndex:
    """``indexes/index.cdxj`` of an ``archiver merge`` folder: one sorted CDXJ over every WARC.

    Its lines are split by the WARC they name into temporary files first, so that each WARC is
    checked against its own lines as with one index per WARC (memory: one WARC's lines at a time).
    """

    def __init__(self, root: Path, path: Path, parts: Path, report: VerifyReport) -> None:
        self.root, self.path, self.parts, self.report = root, path, parts, report
        self._numbers: dict[str, int] = {}

    @classmethod
    @contextlib.contextmanager
    def open(cls, root: Path, warcs: set[str], report: VerifyReport) -> Iterator[MergedIndex | None]:
        path = root / "indexes" / MERGED_INDEX
        if not path.is_file():
            yield None
            return
        with tempfile.TemporaryDirectory(prefix="verify-cdxj-") as parts:
            merged = cls(root, path, Path(parts), report)
            merged._split(warcs)
            yield merged

    def _part(self, name: str) -> Path:
        number = self._numbers.setdefault(name, len(self._numbers))
        return self.parts / f"{number}.lines"

    def _split(self, warcs: set[str]) -> None:
        where = _rel(self.root, self.path)
        open_parts: OrderedDict[str, IO[str]] = OrderedDict()
        try:
            with self.path.open(encoding="utf-8") as lines:
                for number, line in enumerate(lines, 1):
                    self.report.counts["cdxj/lines"] += 1
                    entry = _cdxj_entry(number, line)
                    if entry is None:
                        self.report.problem(f"{where}:{number}", "not a CDXJ line (SURT timestamp JSON)")
                        continue
                    name = str(entry.fields.get("filename"))
                    if name not in warcs:
                        self.report.problem(f"{where}:{number}", f"names {name!r}, which is not in warc/")
                        continue
                    _part_stream(open_parts, name, self._part(name)).write(f"{number}\t{line.rstrip()}\n")
        finally:
            for stream in open_parts.values():
                stream.close()

    def index_of(self, warc: Path) -> CdxjIndex:
        index = CdxjIndex(self.path, {})
        part = self._part(warc.name)
        if part.exists():
            with part.open(encoding="utf-8") as lines:
                for tagged in lines:
                    number, _, line = tagged.partition("\t")
                    entry = _cdxj_entry(int(number), line)
                    if entry is not None:
                        index.by_offset[int(entry.fields["offset"])] = entry
        return index


def _part_stream(streams: OrderedDict[str, IO[str]], name: str, path: Path) -> IO[str]:
    """An append stream for ``path``, keeping at most ``_OPEN_READERS`` files open."""
    if name in streams:
        streams.move_to_end(name)
        return streams[name]
    if len(streams) >= _OPEN_READERS:
        streams.popitem(last=False)[1].close()
    streams[name] = path.open("a", encoding="utf-8")
    return streams[name]


def load_cdxj(root: Path, warc: Path, report: VerifyReport) -> CdxjIndex | None:
    """The CDXJ lines of one WARC, by offset (None when the folder has no index for it)."""
    path = cdxj_path_for(warc, root / "indexes")
    if not path.exists():
        if (root / "indexes").is_dir() and any((root / "indexes").glob("*.cdxj")):
            report.problem(_rel(root, warc), f"no CDXJ index ({_rel(root, path)})")
        return None
    index = CdxjIndex(path, {})
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            entry = _cdxj_entry(number, line)
            where = f"{_rel(root, path)}:{number}"
            if entry is None:
                report.problem(where, "not a CDXJ line (SURT timestamp JSON)")
            elif entry.fields.get("filename") != warc.name:
                report.problem(where, f"names {entry.fields.get('filename')!r}, not {warc.name}")
            else:
                index.by_offset[int(entry.fields["offset"])] = entry
            report.counts["cdxj/lines"] += 1
    return index


def _cdxj_entry(number: int, line: str) -> CdxjEntry | None:
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) != 3:
        return None
    try:
        fields = json.loads(parts[2])
        int(fields["offset"])
    except (ValueError, KeyError, TypeError):
        return None
    return CdxjEntry(number, parts[1], fields)


def check_warc(root: Path, path: Path, index: CdxjIndex | None, report: VerifyReport,
               revisits: RevisitCheck | None = None) -> WarcFacts:
    source = WarcSource.file(path)
    facts = WarcFacts(source.size)
    where = _rel(root, path)
    with source.open() as stream:
        for position, member in enumerate(
            MemberWalk(reader_for(stream, source), 0, source.size, exact=True)
        ):
            if isinstance(member, MemberError):
                report.counts["records/damaged"] += 1
                report.problem(f"{where}:{member.offset}", member.reason)
                continue
            record = _checked_record(member, f"{where}:{member.offset}", report)
            if revisits is not None:
                revisits.see(record, f"{where}:{member.offset}")
            if position == 0 and record.rec_type != "warcinfo":
                report.problem(f"{where}:0", f"first record is {record.rec_type}, not warcinfo")
            if record.rec_type == "metadata" and \
                    record.rec_headers.get_header("Content-Type") != "application/warc-fields":
                facts.wacz_metadata += 1
            if record.rec_type in INDEXED_TYPES:
                facts.indexed_records += 1
                if index is not None:
                    _check_indexed(root, path, member, record, index, report)
    if index is not None:
        for offset, entry in sorted(index.by_offset.items()):
            report.problem(
                f"{_rel(root, index.path)}:{entry.line}",
                f"points to offset {offset} of {path.name}, where no response/revisit record starts",
            )
    return facts


def _checked_record(member: Member, where: str, report: VerifyReport) -> ArcWarcRecord:
    record = parse_record(member.data, check_digests=True)
    while record.raw_stream.read(_HASH_CHUNK):
        pass  # reading the block to its end runs warcio's digest checks
    report.counts[f"records/{record.rec_type}"] += 1
    if record.digest_checker.passed is False:
        report.counts["digests/failed"] += 1
        what = f"{record.rec_type} {header(record, 'WARC-Record-ID')} {header(record, 'WARC-Target-URI')}"
        report.problem(where, f"{what.strip()}: {'; '.join(record.digest_checker.problems)}")
    return record


def _check_indexed(
    root: Path, warc: Path, member: Member, record: ArcWarcRecord, index: CdxjIndex, report: VerifyReport
) -> None:
    entry = index.by_offset.pop(member.offset, None)
    where = f"{_rel(root, warc)}:{member.offset}"
    if entry is None:
        report.problem(
            where, f"{record.rec_type} {header(record, 'WARC-Target-URI')} is not in {_rel(root, index.path)}"
        )
        return
    expected = {
        "url": header(record, "WARC-Target-URI"),
        "digest": header(record, "WARC-Payload-Digest") or None,
        "length": str(member.length),
        "status": str(status_of(record)) if record.http_headers is not None else None,
    }
    found = {name: entry.fields.get(name) for name in expected}
    found["length"] = str(found["length"])
    stamp = _digits(header(record, "WARC-Date"))[:14]
    wrong = [
        f"{name} {found[name]!r} (record: {value!r})"
        for name, value in expected.items()
        if value is not None and found[name] is not None and str(found[name]) != value
    ]
    if entry.timestamp != stamp:
        wrong.append(f"timestamp {entry.timestamp} (record: {stamp})")
    if wrong:
        report.problem(
            f"{_rel(root, index.path)}:{entry.line}", "disagrees with " + where + ": " + ", ".join(wrong)
        )


def _id_key(record_id: str) -> int:
    """A WARC-Record-ID as 8 bytes: a set of them stays small for millions of records."""
    return int.from_bytes(hashlib.blake2b(record_id.strip().encode(), digest_size=8).digest(), "big")


class RevisitCheck:
    """Every revisit's original (``WARC-Refers-To``) is a record of the folder's WARCs.

    A crawl whose ``ARCHIVER_STATE_PATH`` is shared with another folder writes revisits of that
    folder's captures (docs/scheduling.md): this folder alone, or its WACZ, cannot replay them. Such
    revisits are problems, unless the folder holding the originals is given (``--with DIR``): then
    the summary says which folder holds how many.
    """

    def __init__(self) -> None:
        self.originals: set[int] = set()
        self.unresolved: dict[int, tuple[str, str]] = {}  # original -> (where, target URI) of a revisit
        self.revisits = 0

    def see(self, record: ArcWarcRecord, where: str) -> None:
        record_id = header(record, "WARC-Record-ID")
        if record.rec_type in {"response", "resource", "revisit"} and record_id:
            key = _id_key(record_id)
            self.originals.add(key)
            self.unresolved.pop(key, None)
        refers_to = header(record, "WARC-Refers-To")
        if record.rec_type != "revisit" or not refers_to:
            return
        self.revisits += 1
        key = _id_key(refers_to)
        if key not in self.originals:  # usually earlier in the folder; else kept until the end
            self.unresolved.setdefault(key, (where, header(record, "WARC-Target-URI")))

    def resolve(self, root: Path, others: Sequence[Path], report: VerifyReport) -> None:
        elsewhere: Counter[str] = Counter()
        for other in others:
            for path in sorted((other / "warc").glob("*.warc.gz")):
                for record_id in _record_ids(path):
                    if self.unresolved.pop(_id_key(record_id), None) is not None:
                        elsewhere[str(other)] += 1
        report.counts["revisits/originals_elsewhere"] += sum(elsewhere.values())
        report.counts["revisits/unresolved"] += len(self.unresolved)
        for where, uri in sorted(self.unresolved.values()):
            report.problem(where, f"revisit of {uri}: its original (WARC-Refers-To) is in no WARC of "
                           f"this folder{' nor of --with folders' if others else ''}; a crawl sharing "
                           "ARCHIVER_STATE_PATH with another folder revisits that folder's captures: "
                           "verify with --with OTHER_DIR, replay both (archiver merge)")
        line = f"revisits {self.revisits}, every original in this folder"
        if elsewhere:
            line = f"revisits {self.revisits}, originals of " + ", ".join(
                f"{n} in {folder}" for folder, n in sorted(elsewhere.items()))
        if self.unresolved:
            line = f"revisits {self.revisits}, {len(self.unresolved)} original(s) found in no WARC"
        if self.revisits:
            report.summary.append(line)


def _record_ids(path: Path) -> Iterator[str]:
    """The WARC-Record-IDs of a WARC file's capture records (headers only)."""
    from warcio.archiveiterator import ArchiveIterator

    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type in {"response", "resource", "revisit"}:
                yield str(record.rec_headers.get_header("WARC-Record-ID") or "")


def check_orphan_indexes(root: Path, facts: dict[str, WarcFacts], report: VerifyReport) -> None:
    stems = {name.removesuffix(".gz").removesuffix(".warc") for name in facts}
    for path in sorted((root / "indexes").glob("*.cdxj")):
        if path.stem not in stems and path.name != MERGED_INDEX:
            report.problem(_rel(root, path), "index of a WARC that is not in warc/")


# -- articles.jsonl and its pointers ---------------------------------------------------------------


def check_articles(root: Path, report: VerifyReport) -> None:
    path = root / ARTICLES_FILE
    if not path.exists():
        report.problem(ARTICLES_FILE, "missing")
        return
    from archiver.runtime.dataset import sort_key
    from archiver.runtime.packaging import is_dataset_folder
    from pipelines.validate import problems as schema_problems

    dataset = is_dataset_folder(root)  # a folder of the older layout holds one run's records
    previous = ""
    with PointerResolver(pointer_sources(root)) as resolver, path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            report.counts["articles/lines"] += 1
            where = f"{ARTICLES_FILE}:{number}"
            try:
                article = json.loads(line)
            except ValueError as exc:
                report.problem(where, f"not JSON ({exc})")
                continue
            if not isinstance(article, dict):
                report.problem(where, "not a JSON object")
                continue
            key = sort_key(article)
            if dataset and key <= previous:
                report.counts["articles/out_of_order"] += 1
                report.problem(where, f"article {article.get('article_id')!r} is "
                               + ("there twice" if key == previous else "out of article_id order"))
            previous = key
            for name, message in schema_problems(article):
                report.counts["articles/invalid"] += 1
                report.problem(where, f"{name}: {message}")
            for message in resolver.check(article):
                report.counts["pointers/bad"] += 1
                report.problem(where, message)
    lines_count, bad = report.counts["articles/lines"], report.counts["pointers/bad"]
    report.summary.append(
        f"articles {lines_count} lines, {report.counts['articles/invalid']} schema problems, "
        f"{lines_count - bad} of {lines_count} warc pointers resolve"
    )


def pointer_sources(root: Path) -> dict[str, WarcSource]:
    """Where ``warc`` pointers may point: ``warc/``, and for a re-extraction folder its inputs."""
    sources = {path.name: WarcSource.file(path) for path in sorted((root / "warc").glob("*.warc.gz"))}
    reextract = root / "reextract.json"
    if reextract.exists():
        try:
            inputs = [Path(s["path"]) for s in json.loads(reextract.read_text("utf-8"))["sources"]]
            sources.update({s.name: s for s in resolve_inputs(dict.fromkeys(inputs))})
        except (ValueError, KeyError, TypeError, InputError, OSError) as exc:
            logger.warning("%s: cannot read its sources: %s", reextract, exc)
    return sources


class PointerResolver:
    """Checks ``warc`` pointers, keeping a few WARC files open."""

    def __init__(self, sources: dict[str, WarcSource]) -> None:
        self.sources = sources
        self._open: OrderedDict[str, tuple[IO[bytes], MemberReader]] = OrderedDict()

    def __enter__(self) -> PointerResolver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for stream, _ in self._open.values():
            stream.close()
        self._open.clear()

    def check(self, article: dict[str, Any]) -> list[str]:
        """What is wrong with the article's pointer (empty when it resolves)."""
        warc = article.get("warc")
        if not isinstance(warc, dict):
            return ["no warc pointer: the article cannot be traced to the archive"]
        name = str(warc.get("filename"))
        if name not in self.sources:
            return [f"warc pointer names {name!r}, which is not in warc/"]
        try:
            offset, length = int(warc["offset"]), int(warc["length"])
            member = self._reader(name).member_at(offset)
        except (KeyError, TypeError, ValueError) as exc:
            return [f"warc pointer is incomplete ({exc})"]
        except MemberError as exc:
            return [f"warc pointer {name}:{offset}: {exc.reason}"]
        return _pointer_mismatches(article, warc, member, length)

    def _reader(self, name: str) -> MemberReader:
        if name in self._open:
            self._open.move_to_end(name)
            return self._open[name][1]
        if len(self._open) >= _OPEN_READERS:
            stream, _ = self._open.popitem(last=False)[1]
            stream.close()
        source = self.sources[name]
        stream = source.open()
        self._open[name] = (stream, reader_for(stream, source))
        return self._open[name][1]


def _pointer_mismatches(
    article: dict[str, Any], warc: dict[str, Any], member: Member, length: int
) -> list[str]:
    record = parse_record(member.data)
    at = f"warc pointer {warc['filename']}:{member.offset}"
    if record.rec_type not in POINTED_TYPES:
        return [f"{at}: a {record.rec_type} record, not a response or revisit"]
    checks = [
        ("length", length, member.length),
        ("record_id", warc.get("record_id"), header(record, "WARC-Record-ID")),
        ("payload_digest", warc.get("payload_digest"), header(record, "WARC-Payload-Digest")),
        ("url", article.get("url"), header(record, "WARC-Target-URI")),
        ("fetched_at", article.get("fetched_at"), header(record, "WARC-Date")),
    ]
    return [
        f"{at}: {name} is {found!r} in the WARC, {expected!r} in the article"
        for name, expected, found in checks
        if expected != found
    ]


# -- the WACZ --------------------------------------------------------------------------------------


def check_wacz(root: Path, facts: dict[str, WarcFacts], report: VerifyReport) -> None:
    path = root / WACZ_FILE
    if not path.exists():
        report.summary.append(f"WACZ     no {WACZ_FILE} (skipped)")
        return
    try:
        with zipfile.ZipFile(path) as wacz:
            resources = _datapackage(wacz, report)
            _check_resources(wacz, resources, report)
            _check_wacz_warcs(root, wacz, resources, facts, report)
            _check_wacz_index(wacz, facts, report)
            _check_pages(root, wacz, report)
    except zipfile.BadZipFile as exc:
        report.problem(WACZ_FILE, f"not a zip file ({exc})")
        return
    report.summary.append(
        f"WACZ     {WACZ_FILE}: {len(resources)} resources checked against datapackage.json"
    )


def _datapackage(wacz: zipfile.ZipFile, report: VerifyReport) -> list[dict[str, Any]]:
    try:
        raw = wacz.read("datapackage.json")
        package = json.loads(raw)
    except (KeyError, ValueError) as exc:
        report.problem(f"{WACZ_FILE}!datapackage.json", f"missing or not JSON ({exc})")
        return []
    try:
        digest = json.loads(wacz.read("datapackage-digest.json"))
        if digest.get("hash") != "sha256:" + hashlib.sha256(raw).hexdigest():
            report.problem(f"{WACZ_FILE}!datapackage-digest.json", "hash does not match datapackage.json")
    except (KeyError, ValueError) as exc:
        report.problem(f"{WACZ_FILE}!datapackage-digest.json", f"missing or not JSON ({exc})")
    resources = package.get("resources") if isinstance(package, dict) else None
    return [r for r in resources if isinstance(r, dict)] if isinstance(resources, list) else []


def _check_resources(wacz: zipfile.ZipFile, resources: list[dict[str, Any]], report: VerifyReport) -> None:
    listed = {str(r.get("path")) for r in resources}
    for info in wacz.infolist():
        if info.filename not in listed and info.filename not in {
            "datapackage.json",
            "datapackage-digest.json",
        }:
            report.problem(f"{WACZ_FILE}!{info.filename}", "not listed in datapackage.json")
    for resource in resources:
        name = str(resource.get("path"))
        where = f"{WACZ_FILE}!{name}"
        try:
            size, digest = _entry_digest(wacz, name)
        except KeyError:
            report.problem(where, "listed in datapackage.json but missing from the zip")
            continue
        except zipfile.BadZipFile as exc:
            report.problem(where, f"unreadable ({exc})")
            continue
        if resource.get("bytes") != size:
            report.problem(where, f"{size} bytes, datapackage.json says {resource.get('bytes')}")
        if resource.get("hash") != "sha256:" + digest:
            report.problem(where, f"sha256 {digest} does not match datapackage.json ({resource.get('hash')})")
        resource["_sha256"] = digest


def _entry_digest(wacz: zipfile.ZipFile, name: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with wacz.open(name) as entry:
        for chunk in iter(lambda: entry.read(_HASH_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _check_wacz_warcs(
    root: Path,
    wacz: zipfile.ZipFile,
    resources: list[dict[str, Any]],
    facts: dict[str, WarcFacts],
    report: VerifyReport,
) -> None:
    packed = {
        str(r["path"]).removeprefix("archive/"): r
        for r in resources
        if str(r.get("path", "")).startswith("archive/")
    }
    for name in sorted(set(facts) - set(packed)):
        report.problem(f"warc/{name}", f"not in {WACZ_FILE}")
    for name in sorted(set(packed) - set(facts)):
        report.problem(f"{WACZ_FILE}!archive/{name}", "not in warc/")
    for name in sorted(set(packed) & set(facts)):
        facts[name].sha256 = _file_sha256(root / "warc" / name)
        if packed[name].get("_sha256") not in (None, facts[name].sha256):
            report.problem(f"{WACZ_FILE}!archive/{name}", f"differs from warc/{name}")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_wacz_index(wacz: zipfile.ZipFile, facts: dict[str, WarcFacts], report: VerifyReport) -> None:
    import gzip

    try:
        with wacz.open("indexes/index.cdx.gz") as packed, gzip.open(packed) as lines:
            count = sum(1 for _ in lines)
    except KeyError:
        report.problem(f"{WACZ_FILE}!indexes/index.cdx.gz", "missing")
        return
    expected = sum(f.indexed_records for f in facts.values())
    # a WACZ built by the ``wacz`` tool (before archiver.warc.wacz) indexes metadata records too
    by_the_wacz_tool = expected + sum(f.wacz_metadata for f in facts.values())
    if count not in (expected, by_the_wacz_tool):
        report.problem(
            f"{WACZ_FILE}!indexes/index.cdx.gz",
            f"{count} lines, the WARCs hold {expected} response/revisit/resource records",
        )


def _check_pages(root: Path, wacz: zipfile.ZipFile, report: VerifyReport) -> None:
    """One page per article of the dataset (``articles.jsonl``: its latest version's capture),
    counted as the ``wacz`` tool keys pages: URL and second of capture."""
    articles = _article_captures(root)
    try:
        with wacz.open("pages/pages.jsonl") as lines:
            pages = sum(1 for _ in _page_lines(lines))
    except KeyError:
        if articles:  # the wacz tool writes no pages.jsonl without pages
            report.problem(f"{WACZ_FILE}!pages/pages.jsonl", "missing")
        return
    if pages != articles:
        report.problem(
            f"{WACZ_FILE}!pages/pages.jsonl",
            f"{pages} pages, the folder's articles.jsonl has {articles} article captures",
        )


def _article_captures(root: Path) -> int:
    """Distinct (URL, capture second) of the articles of the dataset (``articles.jsonl``)."""
    from archiver.runtime.packaging import article_files

    keys: set[int] = set()  # 64-bit hashes: bounded to a few bytes per capture
    for path in article_files(root):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                    key = f"{_digits(str(record['fetched_at']))[:14]}/{record['url']}"
                except (ValueError, KeyError, TypeError):
                    continue
                keys.add(int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big"))
    return len(keys)


def _page_lines(lines: IO[bytes]) -> Iterator[dict[str, Any]]:
    """The pages of a ``json-pages-1.0`` file (its header line, with ``format``, left out)."""
    for line in lines:
        try:
            page = json.loads(line)
        except ValueError:
            continue
        if isinstance(page, dict) and "format" not in page:
            yield page


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _rel(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
