"""The archiver's Scrapy downloader middlewares, one per module (like ``scrapy/downloadermiddlewares/``)."""
