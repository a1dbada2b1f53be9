"""Beat tasks of the shoppers app. ``recompute_rule_tags_everywhere`` runs in ``public`` and
sends one ``customers.recompute_rule_tags`` per store: tenant-schemas-celery runs each in the
store's own schema (a task sent inside a tenant's context runs there)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection
from django_tenants.utils import get_tenant_model, schema_context

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
    schemas = list(get_tenant_model().objects.exclude(schema_name="public").values_list("schema_name", flat=True))
    for schema in schemas:
        with schema_context(schema):
            recompute_rule_tags_task.apply_async(retry=False)
    return len(schemas)
