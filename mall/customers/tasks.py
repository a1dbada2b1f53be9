"""Beat tasks of the shoppers app. ``recompute_rule_tags_everywhere`` runs in ``public`` and
sends one ``customers.recompute_rule_tags`` per store: tenant-schemas-celery runs each in the
store's own schema (a task sent inside a tenant's context runs there)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection

from tenants.tasks import send_to_every_store

log = logging.getLogger(__name__)


@shared_task(name="customers.recompute_rule_tags")
def recompute_rule_tags_task() -> dict:
    from mall.customers.actions import recompute_rule_tags

    if connection.schema_name == "public":  # a store's task, never the platform's
        log.warning("customers.recompute_rule_tags sent outside a store: ignored")
        return {}
    return recompute_rule_tags()


@shared_task(name="customers.recompute_rule_tags_everywhere")
def recompute_rule_tags_everywhere() -> int:
    """Fan out: one recompute per store (in its schema)."""
    return send_to_every_store(recompute_rule_tags_task, retry=False)
