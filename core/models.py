from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    DONE = "done", _("已完成")
    PARKED = "parked", _("已搁置")


class OutboxMessage(models.Model):
    """A side effect (task, notice, push, external call) recorded in the same transaction as the
    change that causes it. The relay publishes it to Celery after commit and re-publishes what
    was not processed; the worker runs the handler (``core.outbox.deliver``). A failed run is
    retried with exponential backoff up to ``OUTBOX_MAX_ATTEMPTS``, then the message is parked
    for staff to see and replay (/staff/outbox/). Lives in the public schema; ``schema_name``
    says which tenant's schema the handler runs in."""

    schema_name = models.CharField(_("所属租户库"), max_length=63, db_index=True)
    handler = models.CharField(_("处理函数"), max_length=200)
    payload = models.JSONField(_("参数"), default=dict)
    status = models.CharField(
        _("状态"), max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING, db_index=True
    )
    created = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    send_attempts = models.PositiveIntegerField(_("发布失败次数"), default=0)
    attempts = models.PositiveIntegerField(_("执行次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次重试"), null=True, blank=True)
    # An external handler's run holds a lease instead of a row lock (no lock during the call).
    claimed_until = models.DateTimeField(_("执行租约至"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    processed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    parked_at = models.DateTimeField(_("搁置时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("外发消息")
        verbose_name_plural = _("外发消息")
        permissions = [("replay_outboxmessage", _("可以重放搁置的外发消息"))]
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
    LOGISTICS_PUSH = "logistics_push", _("物流推送")


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
