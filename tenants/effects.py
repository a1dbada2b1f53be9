"""Outbox handlers of the tenants app."""

from django.db import transaction

from core import outbox


@outbox.handler
def refill_pool() -> None:
    # The refill clones schemas for seconds and commits each spare itself: it must not run
    # inside the outbox delivery transaction, so it goes to its own task after commit.
    from tenants.tasks import refill_spare_pool

    transaction.on_commit(lambda: refill_spare_pool.apply_async(retry=False))
