from django.db import models


class OutboxMessage(models.Model):
    """A side effect (task, notice, push) recorded in the same transaction as the change that
    causes it. The relay publishes it to Celery after commit and re-publishes what was not
    processed; the worker runs the handler and marks it processed in one transaction, so each
    side effect takes effect exactly once. Lives in the public schema; ``schema_name`` says
    which tenant's schema the handler runs in."""

    schema_name = models.CharField(max_length=63, db_index=True)
    handler = models.CharField(max_length=200)
    payload = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created"], name="outbox_pending_idx", condition=models.Q(processed_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"{self.handler}@{self.schema_name}#{self.pk}"
