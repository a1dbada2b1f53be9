from celery import shared_task

from tenants import provisioning


@shared_task(name="tenants.refill_spare_pool")
def refill_spare_pool() -> int:
    return provisioning.refill_spare_pool()
