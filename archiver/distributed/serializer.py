"""Requests in Redis as JSON (``SCHEDULER_SERIALIZER``), not pickle.

scrapy-redis pickles request dicts by default: whoever can write to the Redis could then run
code on every worker, and ``redis-cli`` shows bytes nobody can read. JSON keeps the queue
readable (``ZRANGE <prefix>:requests 0 4``) and inert. What JSON lacks is tagged: bytes
(bodies, header names and values) as ``{"__bytes__": base64}``, tuples as ``{"__tuple__": [...]}``
and dicts whose keys are not all strings (headers) as ``{"__items__": [[key, value], ...]}``.
Anything else (a set, an object in ``meta``) is refused with a TypeError naming it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

BYTES = "__bytes__"
TUPLE = "__tuple__"
ITEMS = "__items__"
_TAGS = frozenset({BYTES, TUPLE, ITEMS})
_SCALARS = (str, int, float, bool, type(None))


def dumps(obj: Any) -> bytes:
    """A request dict (``Request.to_dict()``) as compact JSON bytes."""
    return json.dumps(_pack(obj), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def loads(data: bytes | str) -> Any:
    return json.loads(data, object_hook=_unpack)


def _pack(value: Any) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, bytes):
        return {BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple):
        return {TUPLE: [_pack(item) for item in value]}
    if isinstance(value, list):
        return [_pack(item) for item in value]
    if isinstance(value, dict):
        return _pack_dict(value)
    raise TypeError(f"a {type(value).__name__} cannot be queued in Redis: request meta and cb_kwargs "
                    f"must hold JSON-like values, bytes or tuples ({value!r:.100})")


def _pack_dict(value: dict[Any, Any]) -> dict[str, Any]:
    if all(isinstance(key, str) for key in value) and not _TAGS & value.keys():
        return {key: _pack(item) for key, item in value.items()}
    return {ITEMS: [[_pack(key), _pack(item)] for key, item in value.items()]}


def _unpack(obj: dict[str, Any]) -> Any:
    if len(obj) != 1:
        return obj
    [(tag, value)] = obj.items()
    if tag == BYTES:
        return base64.b64decode(value)
    if tag == TUPLE:
        return tuple(value)
    if tag == ITEMS:
        return dict(value)
    return obj
