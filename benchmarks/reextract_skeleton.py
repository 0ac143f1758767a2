"""The re-extraction floor ratio's budget: what ``archiver reextract`` costs with no extraction logic.

    python -m benchmarks.reextract_skeleton CRAWL OUT

Run by ``python -m benchmarks.reextract --ratio-only`` in a fresh process, as the command is. It does
the work every re-extraction with these outputs has to do, with the archiver's own code, and nothing
more: read the WARC's gzip members and their records, decode each page's ``Content-Encoding`` and
charset, parse it with lxml and take the scripts out, and, for each page whose URL names an article,
write one JSON line with the ``<body>``'s text (``captures.jsonl``), its conversion record
(``warc/``) and its line of the dataset (``articles.jsonl``, built in SQLite as the command builds
it). No container, no fields, no blocks, no cleaning pipelines.

The benchmark divides its articles/s by the lxml floor's pages/s as it does the command's: the
highest floor ratio any extraction logic over these outputs could reach on this machine, and from
it, how much CPU a page is left for extraction and cleaning at the 0.5 target (issue 21,
docs/performance.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def run(archive: Path, out: Path) -> int:
    """Articles written (pages whose URL names an item)."""
    # imported here, after main() imported Scrapy's exceptions alone, as ``archiver reextract`` does
    from archiver.extract.decode import decode_html
    from archiver.extract.dom import NotHtmlError, parse_html, strip_non_text, text_of
    from archiver.offline.members import Member, MemberWalk, reader_for
    from archiver.offline.pages import archived_page, is_page_candidate, parse_record, record_type
    from archiver.offline.reextract import PAGE_RECORD_TYPES, conversion_writer
    from archiver.offline.sources import resolve_inputs
    from archiver.runtime.dataset import DatasetBuilder
    from archiver.site import item_ref
    from archiver.warc.records import serialize_conversion
    from archiver.warc.writer import encode_serialized

    out.mkdir(parents=True)
    writer = conversion_writer(out / "warc")
    dataset = DatasetBuilder(out / "articles.jsonl")
    articles = 0
    with (out / "captures.jsonl").open("wb") as captures:
        for source in resolve_inputs([archive]):
            with source.open() as stream:
                for member in MemberWalk(reader_for(stream, source), 0, source.size, exact=True):
                    if not isinstance(member, Member) or record_type(member.data) not in PAGE_RECORD_TYPES:
                        continue
                    record = parse_record(member.data)
                    if record.rec_type != "response" or not is_page_candidate(record):
                        continue
                    page = archived_page(source, member, record)
                    try:
                        root = parse_html(decode_html(page.body, page.headers).as_utf8())
                    except NotHtmlError:
                        continue
                    strip_non_text(root)
                    ref = item_ref(page.url)
                    if ref is None:
                        continue
                    # the text of ``<main>`` (else ``<body>``): about as much as a record's body blocks
                    main = root.find(".//main")
                    text = root.find("body") if main is None else main
                    found = {"url": page.url, "article_id": ref.article_id, "fetched_at": page.fetched_at,
                             "body": text_of(text) if text is not None else "", "warc": page.warc}
                    line = json.dumps(found, ensure_ascii=False)
                    encoded = line.encode("utf-8")
                    captures.write(encoded + b"\n")
                    dataset.apply(found, line=line)
                    conversion = serialize_conversion(encoded, target_uri=page.url,
                                                      refers_to=page.warc["record_id"])
                    writer.append([encode_serialized(conversion, writer.gzip_level, indexed=False)])
                    articles += 1
    writer.close()
    dataset.write()
    return articles


def main(argv: list[str] | None = None) -> int:
    from archiver.runtime.extractworker import import_scrapy_exceptions_alone

    import_scrapy_exceptions_alone()  # as ``archiver reextract`` starts (archiver/cli.py)
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m benchmarks.reextract_skeleton CRAWL OUT", file=sys.stderr)
        return 2
    print(json.dumps({"articles": run(Path(args[0]), Path(args[1]))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
