from __future__ import annotations

from archiver.runtime.paging import IncrementalPaging


def test_next_page_waits_for_every_article() -> None:
    paging: IncrementalPaging[str] = IncrementalPaging(stop_after=1)
    assert paging.open_page("releases", 1, ["a", "b"], "page2") is None
    assert paging.settle("releases", 1, "a", changed=False) is None
    assert paging.settle("releases", 1, "b", changed=True) == "page2"


def test_a_page_of_unchanged_articles_stops_the_section() -> None:
    paging: IncrementalPaging[str] = IncrementalPaging(stop_after=1)
    paging.open_page("releases", 3, ["a", "b"], "page4")
    paging.settle("releases", 3, "a", changed=False)
    assert paging.settle("releases", 3, "b", changed=False) is None
    assert "releases" in paging.stopped


def test_stop_after_counts_consecutive_unchanged_pages() -> None:
    paging: IncrementalPaging[str] = IncrementalPaging(stop_after=2)
    paging.open_page("s", 1, ["a"], "p2")
    assert paging.settle("s", 1, "a", changed=False) == "p2"  # one unchanged page: go on
    paging.open_page("s", 2, ["b"], "p3")
    assert paging.settle("s", 2, "b", changed=True) == "p3"  # a change resets the streak
    paging.open_page("s", 3, ["c"], "p4")
    assert paging.settle("s", 3, "c", changed=False) == "p4"
    paging.open_page("s", 4, ["d"], "p5")
    assert paging.settle("s", 4, "d", changed=False) is None


def test_a_page_with_nothing_to_fetch_is_settled_at_once() -> None:
    paging: IncrementalPaging[str] = IncrementalPaging(stop_after=2)
    assert paging.open_page("s", 1, [], "p2") == "p2"
    assert paging.settle("s", 9, "x", changed=True) is None  # unknown page: ignored
