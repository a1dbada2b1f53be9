from celery import shared_task

from core import outbox


@shared_task(name="core.deliver_outbox_message", acks_late=True)
def deliver_outbox_message(message_id: int) -> bool:
    return outbox.deliver(message_id)


@shared_task(name="core.relay_outbox")
def relay_outbox() -> int:
    return outbox.relay_pending()
