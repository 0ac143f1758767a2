"""The crawl's garbage-collector policy (archiver/extensions/gcpolicy.py) and its settings."""

from __future__ import annotations

import gc

import pytest
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from archiver.extensions.gcpolicy import GcPolicy


def test_thresholds_and_freeze_apply_while_the_engine_runs_then_are_undone() -> None:
    before = gc.get_threshold()
    crawler = get_crawler(settings_dict={"ARCHIVER_GC_THRESHOLDS": [5000, 11, 12],
                                         "ARCHIVER_GC_FREEZE": True})
    policy = GcPolicy.from_crawler(crawler)
    policy.engine_started()
    try:
        assert gc.get_threshold() == (5000, 11, 12)
        assert gc.get_freeze_count() > 0
    finally:
        policy.engine_stopped()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_the_signals_are_connected() -> None:
    crawler = get_crawler(settings_dict={"ARCHIVER_GC_THRESHOLDS": [5000, 11, 12], "MEMUSAGE_ENABLED": False})
    policy = GcPolicy.from_crawler(crawler)  # signals hold receivers weakly, as Scrapy's extensions do
    before = gc.get_threshold()
    crawler.signals.send_catch_log(signals.engine_started)
    assert gc.get_threshold() == (5000, 11, 12)
    crawler.signals.send_catch_log(signals.engine_stopped)
    assert gc.get_threshold() == before
    assert policy.thresholds == (5000, 11, 12)


@pytest.mark.parametrize("value", [[1, 2], [-1, 10, 10], ["a", 1, 1]])
def test_bad_thresholds_are_refused(value: list[object]) -> None:
    with pytest.raises(ValueError, match="ARCHIVER_GC_THRESHOLDS must be three"):
        GcPolicy.from_crawler(get_crawler(settings_dict={"ARCHIVER_GC_THRESHOLDS": value}))


def test_nothing_to_do_is_not_configured() -> None:
    settings = {"ARCHIVER_GC_THRESHOLDS": [], "ARCHIVER_GC_FREEZE": False}
    with pytest.raises(NotConfigured):
        GcPolicy.from_crawler(get_crawler(settings_dict=settings))
