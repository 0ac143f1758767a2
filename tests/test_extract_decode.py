"""Bytes → text: BOM, HTTP charset, meta charset, default UTF-8; bad bytes replaced, never a crash."""

from __future__ import annotations

import codecs

import pytest

from archiver.extract import extract_article
from archiver.extract.decode import decode_html

PAGE = '<html><head>{meta}<title>t</title></head><body><p>Café “quoted” — naïve</p></body></html>'
TEXT = "Café “quoted” — naïve"


def page(meta: str = "", encoding: str = "utf-8") -> bytes:
    return PAGE.format(meta=meta).encode(encoding)


def test_default_is_utf8() -> None:
    decoded = decode_html(page())
    assert TEXT in decoded.text
    assert (decoded.encoding, decoded.source) == ("utf-8", "default")


def test_http_charset_wins_over_meta() -> None:
    body = page('<meta charset="utf-8">', encoding="cp1252")
    decoded = decode_html(body, {"Content-Type": "text/html; charset=windows-1252"})
    assert TEXT in decoded.text
    assert decoded.source == "http"


def test_header_name_is_case_insensitive() -> None:
    decoded = decode_html(page(encoding="cp1252"), {"content-type": "text/html;charset=\"cp1252\""})
    assert TEXT in decoded.text


@pytest.mark.parametrize("meta", [
    '<meta charset="windows-1252">',
    "<meta charset=windows-1252>",
    '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
    '<META CONTENT="text/html; charset=Windows-1252" HTTP-EQUIV="content-type">',
])
def test_meta_charset_without_http_charset(meta: str) -> None:
    decoded = decode_html(page(meta, encoding="cp1252"), {"Content-Type": "text/html"})
    assert TEXT in decoded.text
    assert decoded.source == "meta"


@pytest.mark.parametrize(("bom", "codec"), [
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
])
def test_bom_wins_over_declarations(bom: bytes, codec: str) -> None:
    body = bom + page('<meta charset="windows-1252">', encoding=codec)
    decoded = decode_html(body, {"Content-Type": "text/html; charset=iso-8859-1"})
    assert TEXT in decoded.text
    assert not decoded.text.startswith("\ufeff")
    assert decoded.source == "bom"


def test_mislabelled_latin1_page_that_is_utf8() -> None:
    decoded = decode_html(page(), {"Content-Type": "text/html; charset=ISO-8859-1"})
    assert TEXT in decoded.text
    assert decoded.source == "utf-8-sniffed"


def test_latin1_label_means_windows_1252() -> None:
    decoded = decode_html(page(encoding="cp1252"), {"Content-Type": "text/html; charset=iso-8859-1"})
    assert TEXT in decoded.text  # curly quotes live in 0x80-0x9F, which Latin-1 proper lacks


def test_unknown_charset_label_is_ignored() -> None:
    decoded = decode_html(page('<meta charset="x-klingon">'), {"Content-Type": "text/html; charset=bogus"})
    assert TEXT in decoded.text
    assert decoded.source == "default"


def test_invalid_bytes_are_replaced() -> None:
    body = page().replace("naïve".encode(), b"na\xff\xfeve")
    decoded = decode_html(body, {"Content-Type": "text/html; charset=utf-8"})
    assert "na\ufffd\ufffdve" in decoded.text


def test_meta_utf16_label_on_ascii_bytes_means_utf8() -> None:
    decoded = decode_html(page('<meta charset="utf-16">'))
    assert TEXT in decoded.text


@pytest.mark.parametrize("label", ["utf-16", "UTF-16LE", "utf-16be", "utf-32"])
def test_http_wide_label_on_utf8_bytes_means_utf8(label: str) -> None:
    decoded = decode_html(page(), {"Content-Type": f"text/html; charset={label}"})
    assert TEXT in decoded.text
    assert (decoded.encoding, decoded.source) == ("utf-8", "utf-8-sniffed")


def test_http_wide_label_on_ascii_bytes_with_bad_bytes_means_utf8() -> None:
    body = page().replace("naïve".encode(), b"na\xffve")
    decoded = decode_html(body, {"Content-Type": "text/html; charset=utf-16"})
    assert "Café “quoted” — na\ufffdve" in decoded.text


@pytest.mark.parametrize(("label", "codec"), [("utf-16le", "utf-16-le"), ("utf-16be", "utf-16-be"),
                                              ("utf-16", "utf-16-le"), ("utf-32", "utf-32-le")])
def test_real_wide_text_without_bom_still_decodes_as_declared(label: str, codec: str) -> None:
    decoded = decode_html(page(encoding=codec), {"Content-Type": f"text/html; charset={label}"})
    assert TEXT in decoded.text
    assert decoded.source == "http"


@pytest.mark.parametrize("body", [b"", b"\x00\x00\x00", b"\xff\xfe", b"<", b"not html at all \x80\x81"])
def test_garbage_is_not_an_article_and_never_raises(body: bytes) -> None:
    assert extract_article("https://www.defense.gov/x", body, {"Content-Type": "text/html"}) is None


def test_xml_declaration_with_encoding_is_fine() -> None:
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + page()
    assert TEXT in decode_html(body).text
    assert extract_article("https://www.defense.gov/x", body) is None  # parses; just not an article


@pytest.mark.parametrize(("body", "headers"), [
    (page(), None),
    (codecs.BOM_UTF8 + page(), None),
    (page() + b"\xff\xfe broken", None),
    (page(encoding="cp1252"), {"Content-Type": "text/html; charset=windows-1252"}),
    (page(), {"Content-Type": "text/html; charset=iso-8859-1"}),
    (codecs.BOM_UTF16_LE + PAGE.format(meta="").encode("utf-16-le"), None),
])
def test_the_utf8_bytes_handed_to_the_parser_are_the_decoded_text(body: bytes, headers: dict | None) -> None:
    """The parser gets the body itself when it is valid UTF-8 (no second encoding), else the text
    encoded: the same bytes either way."""
    decoded = decode_html(body, headers)
    assert decoded.as_utf8() == decoded.text.encode("utf-8", errors="replace")
    if decoded.utf8 is not None:
        assert decoded.utf8 in {body, body[len(codecs.BOM_UTF8):]}
    valid_utf8 = decoded.encoding == "utf-8" and b"\xff" not in body
    assert (decoded.utf8 is not None) == valid_utf8
