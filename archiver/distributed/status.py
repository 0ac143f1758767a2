"""Progress of a shared crawl as Redis sees it, and clearing a crawl's keys."""

from __future__ import annotations

import re
import time
from typing import Any

from archiver.distributed.keys import CrawlKeys
from archiver.distributed.scripts import CrawlScripts


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis SCAN MATCH pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def crawl_status(server: Any, keys: CrawlKeys) -> dict[str, Any]:
    """Queue, seen requests, seeding, finished mark and every worker (alive, in flight, done)."""
    snapshot = CrawlScripts(server, keys).snapshot()
    names = sorted({w.name for w in snapshot.workers} | _known_workers(server, keys))
    views = {w.name: w for w in snapshot.workers}
    workers = []
    for name in names:
        info = {_text(k): _text(v) for k, v in server.hgetall(keys.stats(name)).items()}
        view = views.get(name)
        ttl_ms = server.pttl(keys.heartbeat(name))
        workers.append({
            "name": name,
            "alive": ttl_ms > 0,
            "heartbeat_ttl": round(ttl_ms / 1000, 1) if ttl_ms > 0 else None,
            "inflight": view.inflight if view else int(server.hlen(keys.inflight(name))),
            "done": int(info.pop("done", 0)),
            **info,
        })
    return {
        "crawl": keys.prefix,
        "queued": snapshot.queued,
        "seen": int(server.scard(keys.dupefilter)),
        "seeded": snapshot.seeded,
        "finished": snapshot.finished or None,
        "workers": workers,
    }


def _known_workers(server: Any, keys: CrawlKeys) -> set[str]:
    """Workers that left (their stats hash stays, with how much they did)."""
    prefix = keys.stats("")
    found = server.scan_iter(match=f"{_glob_escape(prefix)}*", count=1000)
    return {_text(key)[len(prefix):] for key in found}


def format_status(status: dict[str, Any]) -> str:
    """A few lines for a terminal."""
    if status["finished"]:
        state = f"finished at {status['finished']}"
    elif not status["seeded"] and not status["seen"]:
        state = "not started"
    else:
        state = "running"
    lines = [f"crawl {status['crawl']}: {state}",
             f"  queued {status['queued']}, seen {status['seen']} request(s)"]
    for worker in status["workers"]:
        alive = f"alive (heartbeat {worker['heartbeat_ttl']} s)" if worker["alive"] else "gone"
        where = f"{worker.get('host', '?')} pid {worker.get('pid', '?')}"
        lines.append(f"  {worker['name']:<24} {alive:<26} in flight {worker['inflight']:<5} "
                     f"done {worker['done']:<7} {where} {worker.get('out', '')}")
    return "\n".join(lines)


def reset_crawl(server: Any, keys: CrawlKeys, force: bool = False) -> int:
    """Delete every key of the crawl; refused while a worker is alive unless ``force``."""
    if not force:
        alive = [w for w in CrawlScripts(server, keys).snapshot().workers if w.alive]
        if alive:
            names = ", ".join(w.name for w in alive)
            raise RuntimeError(f"workers still running: {names} (stop them, or force)")
    doomed = list(server.scan_iter(match=f"{_glob_escape(keys.prefix)}:*", count=1000))
    return int(server.delete(*doomed)) if doomed else 0


def watch(server: Any, keys: CrawlKeys, every: float, write: Any) -> None:
    """Write the status every ``every`` seconds until the crawl is finished."""
    while True:
        status = crawl_status(server, keys)
        write(format_status(status) + "\n")
        if status["finished"]:
            return
        time.sleep(every)
