"""Fixed-window counters in the cache (Redis: atomic ``add`` + ``incr``)."""

from __future__ import annotations

from django.core.cache import cache


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one event; False when ``key`` has seen more than ``limit`` events in the window."""
    full = f"rl:{key}"
    if cache.add(full, 1, timeout=window):
        return limit >= 1
    try:
        count = cache.incr(full)
    except ValueError:  # expired between add and incr
        cache.add(full, 1, timeout=window)
        count = 1
    return count <= limit


def count(key: str) -> int:
    return int(cache.get(f"rl:{key}") or 0)


def reset(key: str) -> None:
    cache.delete(f"rl:{key}")
