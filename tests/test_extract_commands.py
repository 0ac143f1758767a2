"""``archiver extract`` and ``archiver clean-text`` (registered from archiver.offline.extractcommands)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.cli import ArgumentParser
from archiver.offline.extractcommands import add_clean_text_command, add_extract_command

FIXTURES = Path(__file__).parent / "fixtures"
REAL_RELEASE = FIXTURES / "release" / "real-3981590" / "body.html"


def parser() -> ArgumentParser:
    top = ArgumentParser(prog="archiver")
    sub = top.add_subparsers(dest="command", parser_class=ArgumentParser)
    add_extract_command(sub)
    add_clean_text_command(sub)
    return top


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    args = parser().parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_extract_prints_the_record_without_warc(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "extract", str(REAL_RELEASE))
    assert (code, err) == (0, "")
    record = json.loads(out)
    expected = json.loads((REAL_RELEASE.parent / "output.json").read_text("utf-8"))
    assert "warc" not in record
    assert {k: record[k] for k in expected} == expected  # the page's canonical URL stands in for --url


def test_extract_with_url(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "extract", str(REAL_RELEASE), "--url", "https://www.defense.gov/x?ID=3981590")
    assert code == 0
    assert json.loads(out)["url"] == "https://www.defense.gov/x?ID=3981590"


def test_extract_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "extract", str(tmp_path / "nope.html"))
    assert (code, out) == (2, "")
    assert err.startswith("archiver extract: error: ")
    assert len(err.splitlines()) == 1


def test_extract_not_an_article(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "extract", str(FIXTURES / "not-article" / "replica-listing" / "body.html"))
    assert (code, out) == (2, "")
    assert "not an article page" in err
    assert len(err.splitlines()) == 1


def test_extract_rejected_page(capsys: pytest.CaptureFixture[str]) -> None:
    case = FIXTURES / "bad-input" / "no-body"
    url = json.loads((case / "info.json").read_text("utf-8"))["url"]
    code, out, err = run(capsys, "extract", str(case / "body.html"), "--url", url)
    assert (code, out) == (1, "")
    assert "rejected by the validate pipeline: body: empty" in err


def test_clean_text_file_and_stdin(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    dump = tmp_path / "dump.txt"
    dump.write_text("Title\nAn official website of the United States Government\nA paragraph of text here.\n")
    code, out, _ = run(capsys, "clean-text", str(dump))
    assert code == 0
    assert json.loads(out)["body"] == "A paragraph of text here."
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(dump.read_bytes())))
    code, out_stdin, _ = run(capsys, "clean-text", "-")
    assert (code, out_stdin) == (0, out)


def test_clean_text_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "clean-text", str(tmp_path / "nope.txt"))
    assert code == 2
    assert err.startswith("archiver clean-text: error: ")


def test_extraction_imports_no_scrapy() -> None:
    """Extraction adds no Scrapy/Twisted import of its own (beyond what ``archiver.items`` needs)."""
    code = ("import sys; import archiver.items; "
            "frameworks = lambda: {m for m in sys.modules if m.split('.')[0] in {'scrapy', 'twisted'}}; "
            "before = frameworks(); "
            "from archiver.extract import extract_article; import pipelines.chain; "
            "import archiver.extract.textdump; "
            "extract_article('https://www.defense.gov/x', open(sys.argv[1], 'rb').read()); "
            "print(sorted(frameworks() - before))")
    result = subprocess.run([sys.executable, "-c", code, str(REAL_RELEASE)], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "[]"
