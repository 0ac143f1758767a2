"""The Lua scripts of a distributed crawl, each one atomic in Redis.

Taking a request from the queue and recording it as in flight happen in one step
(``pop_tracked``): a worker killed between the two would otherwise lose the request for good,
its fingerprint staying in the duplicate filter. Moving a dead worker's in-flight requests
back to the queue checks the heartbeat in the same step, so a worker that comes back is never
robbed. "Is the crawl finished?" is answered from one consistent snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archiver.distributed.keys import SEED_DONE, CrawlKeys

POP_TRACKED = """
local popped = redis.call('ZPOPMIN', KEYS[1])
if #popped == 0 then return false end
local id = tostring(redis.call('INCR', KEYS[3]))
redis.call('HSET', KEYS[2], id, popped[2] .. '|' .. popped[1])
return {id, popped[1]}
"""

REQUEUE_IF_DEAD = """
if redis.call('EXISTS', ARGV[1] .. ':worker:' .. ARGV[2]) == 1 then return -1 end
local inflight = ARGV[1] .. ':inflight:' .. ARGV[2]
local entries = redis.call('HGETALL', inflight)
local moved = 0
for i = 2, #entries, 2 do
    local value = entries[i]
    local bar = string.find(value, '|', 1, true)
    redis.call('ZADD', KEYS[1], tonumber(string.sub(value, 1, bar - 1)), string.sub(value, bar + 1))
    moved = moved + 1
end
redis.call('DEL', inflight)
redis.call('SREM', KEYS[2], ARGV[2])
return moved
"""

SNAPSHOT = """
local result = {redis.call('ZCARD', KEYS[1]), redis.call('GET', KEYS[3]) or '',
                redis.call('GET', KEYS[4]) or ''}
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    table.insert(result, worker)
    table.insert(result, redis.call('HLEN', ARGV[1] .. ':inflight:' .. worker))
    table.insert(result, redis.call('EXISTS', ARGV[1] .. ':worker:' .. worker))
end
return result
"""

FINISH = """
if redis.call('EXISTS', KEYS[4]) == 1 then return 1 end
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
if redis.call('GET', KEYS[3]) ~= ARGV[2] then return 0 end
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if redis.call('HLEN', ARGV[1] .. ':inflight:' .. worker) > 0 then return 0 end
end
redis.call('SET', KEYS[4], ARGV[3])
return 1
"""

CLAIM_SEED = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[3] then return 'done' end
if holder and holder ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. ':worker:' .. holder) == 1 then
    return 'wait'
end
redis.call('SET', KEYS[1], ARGV[2])
return 'won'
"""

FINISH_SEED = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

CLAIM_LEASE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    redis.call('SADD', KEYS[2], ARGV[3])
    return 1
end
return 0
"""

RENEW_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
if holder then return 1 end
return 0
"""

RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('HLEN', KEYS[3]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return 1
"""


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class WorkerView:
    """One worker as the snapshot saw it."""

    name: str
    inflight: int
    alive: bool


@dataclass(frozen=True)
class Snapshot:
    """The crawl at one instant: queue length, seeding, finished marker, workers."""

    queued: int
    seed: str
    finished: str
    workers: tuple[WorkerView, ...]

    @property
    def seeded(self) -> bool:
        return self.seed == SEED_DONE

    def busy_workers(self) -> list[WorkerView]:
        """Live workers holding requests (they may still queue new ones)."""
        return [w for w in self.workers if w.alive and w.inflight]

    def dead_with_requests(self) -> list[WorkerView]:
        return [w for w in self.workers if not w.alive and w.inflight]


class CrawlScripts:
    """The scripts bound to one crawl's keys (``server`` is a redis-py client, bytes replies)."""

    def __init__(self, server: Any, keys: CrawlKeys) -> None:
        self.server = server
        self.keys = keys
        register = server.register_script
        self._pop = register(POP_TRACKED)
        self._requeue = register(REQUEUE_IF_DEAD)
        self._snapshot = register(SNAPSHOT)
        self._finish = register(FINISH)
        self._claim_seed = register(CLAIM_SEED)
        self._finish_seed = register(FINISH_SEED)
        self._claim_lease = register(CLAIM_LEASE)
        self._renew_lease = register(RENEW_LEASE)
        self._release_lease = register(RELEASE_LEASE)

    # -- requests -----------------------------------------------------------------------------------

    def pop_tracked(self, worker: str) -> tuple[str, bytes] | None:
        """Take the best request off the queue into ``worker``'s in-flight hash: (id, encoded)."""
        keys = self.keys
        popped = self._pop(keys=[keys.queue, keys.inflight(worker), keys.sequence])
        if not popped:
            return None
        inflight_id, encoded = popped
        return _text(inflight_id), encoded

    def requeue_if_dead(self, worker: str) -> int:
        """Put a dead worker's in-flight requests back in the queue; -1 when it is alive."""
        keys = self.keys
        return int(self._requeue(keys=[keys.queue, keys.workers], args=[keys.prefix, worker]))

    # -- the crawl as a whole -------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        keys = self.keys
        raw = self._snapshot(keys=[keys.queue, keys.workers, keys.seed, keys.finished], args=[keys.prefix])
        workers = tuple(
            WorkerView(_text(raw[i]), int(raw[i + 1]), bool(int(raw[i + 2])))
            for i in range(3, len(raw), 3)
        )
        ordered = tuple(sorted(workers, key=lambda w: w.name))
        return Snapshot(int(raw[0]), _text(raw[1]), _text(raw[2]), ordered)

    def finish(self, when: str) -> bool:
        """Mark the crawl finished if nothing is queued, seeded, and no worker holds a request."""
        keys = self.keys
        marked = self._finish(keys=[keys.queue, keys.workers, keys.seed, keys.finished],
                              args=[keys.prefix, SEED_DONE, when])
        return bool(int(marked))

    # -- seeding --------------------------------------------------------------------------------------

    def claim_seeding(self, worker: str) -> str:
        """``won`` (push the start requests), ``done`` (already queued) or ``wait`` (another live worker)."""
        keys = self.keys
        return _text(self._claim_seed(keys=[keys.seed], args=[keys.prefix, worker, SEED_DONE]))

    def finish_seeding(self, worker: str) -> bool:
        return bool(int(self._finish_seed(keys=[self.keys.seed], args=[worker, SEED_DONE])))

    # -- the worker's lease (heartbeat) -----------------------------------------------------------------

    def claim_lease(self, worker: str, token: str, ttl_ms: int) -> bool:
        keys = self.keys
        claimed = self._claim_lease(keys=[keys.heartbeat(worker), keys.workers], args=[token, ttl_ms, worker])
        return bool(int(claimed))

    def renew_lease(self, worker: str, token: str, ttl_ms: int) -> int:
        """1 renewed; 0 it had expired and is taken again; -1 another process holds the name."""
        keys = self.keys
        renewed = self._renew_lease(keys=[keys.heartbeat(worker), keys.workers], args=[token, ttl_ms, worker])
        return int(renewed)

    def release_lease(self, worker: str, token: str) -> bool:
        keys = self.keys
        released = self._release_lease(keys=[keys.heartbeat(worker), keys.workers, keys.inflight(worker)],
                                       args=[token, worker])
        return bool(int(released))
