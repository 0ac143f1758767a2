"""WARC layer: record building, rolling writer, CDXJ/WACZ, and the Scrapy middleware."""
