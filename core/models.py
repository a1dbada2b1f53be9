from django.db import models
from django.utils.translation import gettext_lazy as _


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


class InboundKind(models.TextChoices):
    COMPONENT = "component", _("第三方平台推送")
    EVENT = "event", _("小程序事件")
    PAY_NOTIFY = "pay_notify", _("支付通知")
    REFUND_NOTIFY = "refund_notify", _("退款通知")
    TRANSFER_NOTIFY = "transfer_notify", _("转账通知")


class InboundLog(models.Model):
    """Every push and notify an outside service sent us, and what we did (for support and
    reconciliation). Public schema; ``schema_name`` names the tenant it concerned, if any. The
    table keeps its name from ``integrations.wechat``."""

    kind = models.CharField(max_length=20, choices=InboundKind.choices)
    key = models.CharField(max_length=128, blank=True, db_index=True)
    outcome = models.CharField(max_length=32)
    detail = models.TextField(blank=True)
    schema_name = models.CharField(max_length=63, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "wechat_inboundlog"
        ordering = ["-received_at"]
