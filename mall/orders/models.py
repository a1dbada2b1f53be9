from django.db import models
from django.utils.translation import gettext_lazy as _

from mall.catalog.models import Product
from mall.customers.models import Customer
from mall.promoters.models import Promoter


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("待付款")
    PAID = "paid", _("待发货")
    SHIPPED = "shipped", _("待收货")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已取消")
    AFTER_SALES = "after_sales", _("售后中")


# The allowed transitions, written once (house rule 3).
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.AFTER_SALES}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.COMPLETED, OrderStatus.AFTER_SALES}),
    OrderStatus.COMPLETED: frozenset({OrderStatus.AFTER_SALES}),
    OrderStatus.AFTER_SALES: frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED}),
    OrderStatus.CANCELLED: frozenset(),
}


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
        _("状态"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT, db_index=True
    )
    total_fen = models.PositiveIntegerField(_("应付金额（分）"))
    paid_fen = models.PositiveIntegerField(_("实付金额（分）"), default=0)
    created = models.DateTimeField(_("下单时间"), auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.order_no


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
