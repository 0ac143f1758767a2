"""archiver/settings.py is the one home of every ``ARCHIVER_*`` / ``WARC_*`` setting: each is
documented in docs/settings.md with the same default, each documented one is defined there, each
has its one-line comment, and no component reads one with a default of its own."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from archiver import settings as archiver_settings

ROOT = Path(__file__).parent.parent
OURS = re.compile(r"^(ARCHIVER|WARC)_[A-Z0-9_]+$")
_ROW = re.compile(r"^\| `([A-Z0-9_]+)` \| ([^|]*) \|", re.M)
#: a component reading one of ours with an inline default: ``getint("WARC_X", 5)``
#: (``defaults.NAME``, archiver/settings.py's own value, is the one definition: allowed)
_INLINE_DEFAULT = re.compile(
    r"\.get(?:bool|int|float|list|dict)?\(\s*\"((?:ARCHIVER|WARC)_[A-Z0-9_]+)\"\s*,(?!\s*defaults\.\1\))")
#: the cleaning pipelines also run outside a crawl on a plain mapping (pipelines/chain.py:
#: `archiver extract`, re-extraction), where archiver/settings.py is not loaded
_OUTSIDE_A_CRAWL = {"pipelines/duplicates.py", "pipelines/validate.py", "pipelines/versions.py"}


#: documented, set by the distributed add-on (archiver/distributed/addon.py) at "addon" priority,
#: which a default in settings.py ("project" priority) would override
_ADDON_FILLED = {"WARC_WORKER"}


def defined() -> dict[str, Any]:
    return {name: value for name, value in vars(archiver_settings).items() if OURS.match(name)}


def documented() -> dict[str, str]:
    text = (ROOT / "docs" / "settings.md").read_text("utf-8")
    return {name: default.strip() for name, default in _ROW.findall(text) if OURS.match(name)}


def test_every_setting_is_documented_and_every_documented_one_defined() -> None:
    assert len(defined()) > 40
    assert sorted(set(defined()) - set(documented())) == []
    assert sorted(set(documented()) - set(defined()) - _ADDON_FILLED) == []


@pytest.mark.parametrize("name", sorted(defined()))
def test_documented_default_is_the_defined_one(name: str) -> None:
    value, cell = defined()[name], documented()[name]
    literal = re.fullmatch(r"`([^`]*)`", cell)
    if isinstance(value, (bool, int, float)) and literal:
        assert ast.literal_eval(literal.group(1).replace("_", "")) == value, cell
    elif isinstance(value, str) and value:  # an empty one's cell says what empty means
        assert literal, cell
        assert literal.group(1) == value


def test_every_setting_has_its_comment() -> None:
    lines = (ROOT / "archiver" / "settings.py").read_text("utf-8").splitlines()
    bare = [line.split()[0] for before, line in itertools.pairwise(lines)
            if OURS.match(line.split(" ")[0]) and not before.startswith("#")]
    assert bare == []


def test_no_component_reads_our_settings_with_a_default_of_its_own() -> None:
    sources = [p for folder in ("archiver", "spiders", "pipelines") for p in (ROOT / folder).rglob("*.py")]
    assert sources
    found = [f"{p.relative_to(ROOT)}: {m.group(1)}" for p in sources
             if str(p.relative_to(ROOT)) not in _OUTSIDE_A_CRAWL
             for m in _INLINE_DEFAULT.finditer(p.read_text("utf-8"))]
    assert found == []
