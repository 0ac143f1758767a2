"""Distributed crawls: several workers share one crawl through Redis (scrapy-redis).

Each worker runs ``archiver crawl --redis URL --worker NAME --out DIR`` with its own output
folder; the shared request queue and duplicate filter live in Redis (scrapy-redis), every
request a worker takes is recorded as in flight until its outputs are on disk, so a worker
killed mid-crawl loses nothing; ``archiver merge`` joins the folders. See docs/distributed.md.

Modules (scrapy-redis and redis-py are imported lazily: a one-process crawl needs neither):

| module | does |
|---|---|
| ``keys`` | names of the crawl's Redis keys |
| ``scripts`` | the Lua scripts that keep queue, in-flight hashes and heartbeats consistent |
| ``serializer`` | requests as JSON in Redis (readable with redis-cli; no pickle from the network) |
| ``queue``, ``scheduler``, ``dupefilter`` | small subclasses of scrapy-redis' components |
| ``tracker`` | which taken requests are finished, committed after a flush of the outputs |
| ``coordinator`` | the extension: lease and heartbeat, recovery of dead workers, when to stop |
| ``seeding`` | spider middleware: the first worker pushes the start requests, once |
| ``addon`` | turns all of the above on from ``ARCHIVER_REDIS_URL`` |
| ``merge``, ``statemerge`` | ``archiver merge``: one CDXJ, WACZ, articles.jsonl and state |
| ``status`` | progress and reset of a crawl in Redis |
| ``commands`` | CLI glue (``--redis``, ``--worker``, ``merge``, ``redis status|reset``) |
"""
