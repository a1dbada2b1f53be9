"""The storefront's read cache: store info, category tree, product list and product detail.

Every entry lives in the default cache, whose KEY_FUNCTION (``django_tenants.cache.make_key``)
puts the active schema in front of every key: tenant A's entries are never read under tenant B.
Entries are stamped with the store's **catalog version** (one integer per tenant,
``storefront:version``) and read together with it in one round trip (``get_many``); an entry
whose stamp differs from the current version is rebuilt. ``bump()`` moves the version on: every
catalog action and console save calls it, and ``place_order`` / ``cancel_order`` call
``bump_after_commit()`` (they change stock).

``bump()`` moves the version at once *and* again after commit: a reader that rebuilt an entry
from the not-yet-committed state between the two gets invalidated by the second bump. Outside a
committed transaction (tests) the first bump is what counts. A cache outage never breaks the
storefront: reads fall back to the database."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)

CACHE_SECONDS = 60  # under PRIVATE_FILE_LINK_SECONDS: cached signed links stay valid
# After a cache error (Redis down or hung: each call costs a socket timeout) this process leaves
# the cache alone for this long and reads the database: one timeout per process per period, not
# one per request. A bump missed meanwhile leaves entries stale for at most CACHE_SECONDS.
RETRY_SECONDS = 30.0
_down_until = [0.0]


def _available() -> bool:
    return time.monotonic() >= _down_until[0]


def _failed() -> None:
    _down_until[0] = time.monotonic() + RETRY_SECONDS
    log.warning("storefront cache unavailable: reading the database for %ss", RETRY_SECONDS, exc_info=True)


EPOCH = "1"  # part of every key; tests give each test its own (tests/conftest.py)


def key(name: str) -> str:
    """A storefront key (the cache prefixes it with the active schema)."""
    return f"storefront:{EPOCH}:{name}"


def _version_key() -> str:
    return key("version")


def _fresh_version() -> int:
    # A new version never repeats one used before the key was lost (eviction, restart).
    return time.time_ns() // 1000


def _incr() -> None:
    if not _available():
        return
    try:
        try:
            cache.incr(_version_key())
        except ValueError:  # no version yet
            if not cache.add(_version_key(), _fresh_version(), timeout=None):
                cache.incr(_version_key())
    except Exception:  # noqa: BLE001 (a cache outage must not fail the action)
        _failed()


def bump() -> None:
    """The store's catalog changed: cached storefront reads are stale (now and after commit)."""
    _incr()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_incr)


def bump_after_commit() -> None:
    """For the order actions (stock changes under row locks): bump once the transaction commits."""
    transaction.on_commit(_incr)


def current_version() -> int | None:
    if not _available():
        return None
    try:
        return cache.get(_version_key())
    except Exception:  # noqa: BLE001
        _failed()
        return None


def cached(name: str, build):
    """``build()``'s value, from the cache when it was stored under the current version."""
    vkey, ikey = _version_key(), key(name)
    if not _available():
        return build()
    try:
        got = cache.get_many([vkey, ikey])
    except Exception:  # noqa: BLE001
        _failed()
        return build()
    version = got.get(vkey)
    hit = got.get(ikey)
    if version is not None and hit is not None and hit[0] == version:
        return hit[1]
    if version is None:
        try:
            cache.add(vkey, _fresh_version(), timeout=None)
            version = cache.get(vkey)
        except Exception:  # noqa: BLE001
            _failed()
            return build()
    value = build()
    try:
        cache.set(ikey, (version, value), CACHE_SECONDS)
    except Exception:  # noqa: BLE001
        _failed()
    return value
