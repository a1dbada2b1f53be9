from django.conf import settings
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fsm import StateMachine
from core.money import format_yuan
from mall.catalog.models import Product
from mall.customers.models import Customer
from mall.promoters.models import Promoter


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("待付款")
    PAID = "paid", _("待发货")
    SHIPPED = "shipped", _("待收货")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已取消")


# The allowed transitions, written once (house rule 3; ``core.fsm``). PENDING_PAYMENT → PAID
# happens only in ``record_payment`` (with its Payment row). After-sales is not a status: a
# refund is an after-sales record (``mall.payments.Refund``) and the order keeps its place.
ORDER_FSM = StateMachine(
    OrderStatus,
    {
        OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.CANCELLED},
        OrderStatus.PAID: {OrderStatus.SHIPPED},
        OrderStatus.SHIPPED: {OrderStatus.COMPLETED},
        OrderStatus.COMPLETED: set(),
        OrderStatus.CANCELLED: set(),
    },
    subject=_("订单"),
)


class Order(models.Model):
    order_no = models.CharField(_("订单号"), max_length=32, unique=True)
    customer = models.ForeignKey(Customer, verbose_name=_("顾客"), on_delete=models.PROTECT, related_name="orders")
    promoter = models.ForeignKey(
        Promoter,
        verbose_name=_("推广员"),
        on_delete=models.PROTECT,
        related_name="orders",
        null=True,
        blank=True,
        help_text=_("订单的分销来源"),
    )
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=OrderStatus.choices,
        default=OrderStatus.PENDING_PAYMENT,
        db_index=True,
        editable=False,
    )
    total_fen = models.PositiveIntegerField(_("应付金额（分）"), editable=False)
    paid_fen = models.PositiveIntegerField(_("实付金额（分）"), default=0, editable=False)
    created = models.DateTimeField(_("下单时间"), auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        ordering = ["-created"]
        permissions = [("cancel_order", _("取消订单"))]

    def __str__(self) -> str:
        return self.order_no

    @admin.display(description=_("应付金额"))
    def total_yuan(self) -> str:
        return format_yuan(self.total_fen)

    @admin.display(description=_("实付金额"))
    def paid_yuan(self) -> str:
        return format_yuan(self.paid_fen)

    @property
    def after_sales(self) -> bool:
        """An after-sales case is open: a refund not yet finished."""
        from mall.payments.models import OPEN_REFUND_STATES

        return self.refunds.filter(status__in=OPEN_REFUND_STATES).exists()


class OrderEventKind(models.TextChoices):
    PLACED = "placed", _("下单")
    PAID = "paid", _("付款")
    STATUS = "status", _("状态变更")
    CANCELLED = "cancelled", _("取消")
    REFUND_REQUESTED = "refund_requested", _("申请退款")
    REFUND_FINISHED = "refund_finished", _("退款结束")


class OrderEvent(models.Model):
    """The order's timeline, one row per transition or after-sales step (written by the actions
    only, never updated)."""

    order = models.ForeignKey(Order, verbose_name=_("订单"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事件"), max_length=20, choices=OrderEventKind.choices)
    from_status = models.CharField(_("原状态"), max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=OrderStatus.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("订单事件")
        verbose_name_plural = _("订单事件")
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    title = models.CharField(_("商品名称"), max_length=100)
    unit_price_fen = models.PositiveIntegerField(_("单价（分）"))
    quantity = models.PositiveIntegerField(_("数量"))
    amount_fen = models.PositiveIntegerField(_("金额（分）"))

    class Meta:
        verbose_name = _("订单明细")
        verbose_name_plural = _("订单明细")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0),
                name="orders_line_quantity_positive",
                violation_error_message=_("数量必须大于 0。"),
            )
        ]
