"""Payments and refunds of one store (tenant schema). A WeChat transaction id is recorded once
(unique constraint), in the same transaction that marks the order paid."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fsm import StateMachine
from mall.orders.models import Order


class Payment(models.Model):
    # not indexed by Wagtail (see mall.orders.models.Order)
    wagtail_reference_index_ignore = True

    order = models.ForeignKey(Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="payments")
    transaction_id = models.CharField(_("微信支付单号"), max_length=64, unique=True)
    amount_fen = models.PositiveIntegerField(_("金额（分）"))
    # A second successful payment of an order already paid: refunded automatically.
    is_duplicate = models.BooleanField(_("重复支付"), default=False)
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
    PENDING_REVIEW = "pending_review", _("待审核")
    DECLINED = "declined", _("商家拒绝")
    REQUESTED = "requested", _("待提交")
    PROCESSING = "processing", _("退款中")
    SUCCESS = "success", _("已退款")
    ABNORMAL = "abnormal", _("退款异常")
    CLOSED = "closed", _("退款关闭")
    REJECTED = "rejected", _("微信拒绝")


# Refunds not finished yet (the dashboard's "待处理退款" and the refund list's "未完结" filter).
OPEN_REFUND_STATUSES = (
    RefundStatus.PENDING_REVIEW,
    RefundStatus.REQUESTED,
    RefundStatus.PROCESSING,
    RefundStatus.ABNORMAL,
)


# The allowed transitions, written once (house rule 3; ``core.fsm``). A finished refund
# (success, closed, rejected) never changes again.
REFUND_FSM = StateMachine(
    RefundStatus,
    {
        RefundStatus.PENDING_REVIEW: {RefundStatus.REQUESTED, RefundStatus.DECLINED, RefundStatus.CLOSED},
        RefundStatus.DECLINED: set(),
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
FINISHED_REFUND_STATES = (RefundStatus.SUCCESS, RefundStatus.CLOSED, RefundStatus.REJECTED, RefundStatus.DECLINED)
# An open after-sales case: a refund not yet finished.
OPEN_REFUND_STATES = OPEN_REFUND_STATUSES
# Refunds that hold (or may still hold) part of the paid amount.
OPEN_OR_DONE = (
    RefundStatus.PENDING_REVIEW,
    RefundStatus.REQUESTED,
    RefundStatus.PROCESSING,
    RefundStatus.SUCCESS,
    RefundStatus.ABNORMAL,
)


class RefundKind(models.TextChoices):
    REFUND_ONLY = "refund_only", _("仅退款")
    RETURN_REFUND = "return_refund", _("退货退款")


class RefundSource(models.TextChoices):
    SHOPPER = "shopper", _("顾客申请")
    MERCHANT = "merchant", _("商家发起")
    SYSTEM = "system", _("系统（重复支付）")


class Refund(models.Model):
    # not indexed by Wagtail (see mall.orders.models.Order)
    wagtail_reference_index_ignore = True

    order = models.ForeignKey(Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, verbose_name=_("支付"), on_delete=models.PROTECT, related_name="refunds")
    out_refund_no = models.CharField(_("退款单号"), max_length=64, unique=True)
    refund_id = models.CharField(_("微信退款单号"), max_length=64, blank=True)
    amount_fen = models.PositiveIntegerField(_("退款金额（分）"))
    reason = models.CharField(_("原因"), max_length=80, blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=RefundKind.choices, default=RefundKind.REFUND_ONLY)
    source = models.CharField(_("发起方"), max_length=16, choices=RefundSource.choices, default=RefundSource.MERCHANT)
    return_carrier = models.CharField(_("退货快递"), max_length=20, blank=True)
    return_tracking_no = models.CharField(_("退货运单号"), max_length=40, blank=True)
    decline_reason = models.CharField(_("拒绝原因"), max_length=200, blank=True, editable=False)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True, editable=False)
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
        permissions = [("review_refund", _("审核退款"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_fen__gt=0),
                name="payments_refund_positive",
                violation_error_message=_("退款金额必须大于 0。"),
            )
        ]

    def __str__(self) -> str:
        return self.out_refund_no


class RefundLine(models.Model):
    """The part of one order line a refund gives back (amount in fen, and the quantity
    returned). The sum over a line's open or done refunds never exceeds what the line paid."""

    # not indexed by Wagtail (see mall.orders.models.Order)
    wagtail_reference_index_ignore = True

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="refund_lines")
    quantity = models.PositiveIntegerField(_("数量"), default=0)
    amount_fen = models.PositiveIntegerField(_("金额（分）"))

    class Meta:
        verbose_name = _("退款明细")
        verbose_name_plural = _("退款明细")
        constraints = [
            models.UniqueConstraint(fields=["refund", "line"], name="payments_refund_line_unique"),
            models.CheckConstraint(condition=models.Q(amount_fen__gt=0), name="payments_refund_line_positive"),
        ]


class AnomalyKind(models.TextChoices):
    AMOUNT_MISMATCH = "amount_mismatch", _("金额不符")
    DUPLICATE_PAYMENT = "duplicate_payment", _("重复支付")
    PAID_AFTER_CANCEL = "paid_after_cancel", _("取消后支付")


class PaymentAnomaly(models.Model):
    """A payment WeChat reported that we did not simply accept: shown to the merchant
    (and the duplicate's automatic refund linked), never only logged."""

    # not indexed by Wagtail (see mall.orders.models.Order)
    wagtail_reference_index_ignore = True

    kind = models.CharField(_("类型"), max_length=20, choices=AnomalyKind.choices)
    order = models.ForeignKey(
        Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="payment_anomalies", null=True
    )
    order_no = models.CharField(_("订单号"), max_length=32)
    transaction_id = models.CharField(_("微信支付单号"), max_length=64)
    amount_fen = models.PositiveIntegerField(_("支付金额（分）"))
    expected_fen = models.PositiveIntegerField(_("应付金额（分）"))
    refund = models.ForeignKey(
        Refund, verbose_name=_("自动退款"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("支付异常")
        verbose_name_plural = _("支付异常")
        ordering = ["-created"]
        constraints = [models.UniqueConstraint(fields=["kind", "transaction_id"], name="payments_anomaly_unique")]
