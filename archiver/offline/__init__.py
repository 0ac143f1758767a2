"""Offline work on a finished crawl: re-extraction from the WARCs, verification, dataset exports, stats.

Nothing here touches the network; the raw archive (``warc/*.warc.gz`` or a WACZ) is the source of
truth. See docs/datasets.md.
"""
