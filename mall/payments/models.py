"""Payments and refunds of one store (tenant schema). A WeChat transaction id is recorded once
(unique constraint), in the same transaction that marks the order paid."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fsm import StateMachine
from mall.orders.models import Order


class Payment(models.Model):
    order = models.ForeignKey(Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="payments")
    transaction_id = models.CharField(_("微信支付单号"), max_length=64, unique=True)
    amount_fen = models.PositiveIntegerField(_("金额（分）"))
    paid_at = models.DateTimeField(_("支付时间"))
    created = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("支付")
        verbose_name_plural = _("支付")
        ordering = ["-paid_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_fen__gt=0),
                name="payments_amount_positive",
                violation_error_message=_("支付金额必须大于 0。"),
            )
        ]

    def __str__(self) -> str:
        return self.transaction_id


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("待提交")
    PROCESSING = "processing", _("退款中")
    SUCCESS = "success", _("已退款")
    ABNORMAL = "abnormal", _("退款异常")
    CLOSED = "closed", _("退款关闭")
    REJECTED = "rejected", _("微信拒绝")


# Refunds not finished yet (the dashboard's "待处理退款" and the refund list's "未完结" filter).
OPEN_REFUND_STATUSES = (RefundStatus.REQUESTED, RefundStatus.PROCESSING, RefundStatus.ABNORMAL)


# The allowed transitions, written once (house rule 3; ``core.fsm``). A finished refund
# (success, closed, rejected) never changes again.
REFUND_FSM = StateMachine(
    RefundStatus,
    {
        RefundStatus.REQUESTED: {
            RefundStatus.PROCESSING,
            RefundStatus.SUCCESS,
            RefundStatus.ABNORMAL,
            RefundStatus.CLOSED,
            RefundStatus.REJECTED,
        },
        RefundStatus.PROCESSING: {RefundStatus.SUCCESS, RefundStatus.ABNORMAL, RefundStatus.CLOSED},
        RefundStatus.ABNORMAL: {RefundStatus.SUCCESS, RefundStatus.CLOSED},
        RefundStatus.SUCCESS: set(),
        RefundStatus.CLOSED: set(),
        RefundStatus.REJECTED: set(),
    },
    subject=_("退款"),
)
REFUND_TRANSITIONS = REFUND_FSM.transitions
FINISHED_REFUND_STATES = (RefundStatus.SUCCESS, RefundStatus.CLOSED, RefundStatus.REJECTED)
# An open after-sales case: a refund not finished yet.
OPEN_REFUND_STATES = (RefundStatus.REQUESTED, RefundStatus.PROCESSING, RefundStatus.ABNORMAL)
# Refunds that hold (or may still hold) part of the paid amount.
OPEN_OR_DONE = (RefundStatus.REQUESTED, RefundStatus.PROCESSING, RefundStatus.SUCCESS, RefundStatus.ABNORMAL)


class Refund(models.Model):
    order = models.ForeignKey(Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, verbose_name=_("支付"), on_delete=models.PROTECT, related_name="refunds")
    out_refund_no = models.CharField(_("退款单号"), max_length=64, unique=True)
    refund_id = models.CharField(_("微信退款单号"), max_length=64, blank=True)
    amount_fen = models.PositiveIntegerField(_("退款金额（分）"))
    reason = models.CharField(_("原因"), max_length=80, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED, editable=False
    )
    failure = models.CharField(_("失败原因"), max_length=200, blank=True)
    created = models.DateTimeField(_("申请时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("退款")
        verbose_name_plural = _("退款")
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_fen__gt=0),
                name="payments_refund_positive",
                violation_error_message=_("退款金额必须大于 0。"),
            )
        ]

    def __str__(self) -> str:
        return self.out_refund_no
