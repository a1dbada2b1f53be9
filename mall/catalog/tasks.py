"""Catalog beat tasks. ``catalog.notice_low_stock`` (public) fans out one task per store, sent
inside the store's schema so it runs there (tenant-schemas-celery)."""

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.models import Tenant, TenantStatus


@shared_task(name="catalog.notice_low_stock")
def notice_low_stock_all() -> int:
    schemas = list(
        Tenant.objects.exclude(schema_name="public")
        .exclude(status=TenantStatus.SUSPENDED)
        .exclude(slug="")
        .values_list("schema_name", flat=True)
    )
    for schema in schemas:
        with schema_context(schema):
            notice_low_stock_in_store.delay()
    return len(schemas)


@shared_task(name="catalog.notice_low_stock_in_store")
def notice_low_stock_in_store() -> int:
    from mall.catalog.actions import notice_low_stock

    return notice_low_stock()
