from celery import shared_task
from django_tenants.utils import schema_context

from tenants import provisioning


def send_to_every_store(task, **options) -> int:
    """Fan a per-store task out from a beat task (public schema): one ``apply_async`` per store,
    sent inside the store's schema so tenant-schemas-celery runs it there. Returns how many."""
    from tenants.models import Tenant

    schemas = list(Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
    for schema in schemas:
        with schema_context(schema):
            task.apply_async(**options)
    return len(schemas)


@shared_task(name="tenants.refill_spare_pool")
def refill_spare_pool() -> int:
    return provisioning.refill_spare_pool()
