import logging

from celery import shared_task

from core import outbox

log = logging.getLogger(__name__)


@shared_task(name="core.deliver_outbox_message", acks_late=True)
def deliver_outbox_message(message_id: int) -> bool:
    try:
        return outbox.deliver(message_id)
    except Exception as exc:  # recorded on the message (retry with backoff, or parked)
        log.warning("outbox message %s failed: %s", message_id, exc)
        return False


@shared_task(name="core.relay_outbox")
def relay_outbox() -> int:
    return outbox.relay_pending()
