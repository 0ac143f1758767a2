"""The archiver's Scrapy extensions (and its feed storage), one per module (like ``scrapy/extensions/``)."""
