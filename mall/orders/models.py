from django.conf import settings
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField
from core.fsm import StateMachine
from core.money import format_yuan
from mall.catalog.models import Product, ProductKind, ProductSku
from mall.customers.models import Customer
from mall.promoters.models import Promoter


class OrderSettings(models.Model):
    """The store's order rules (one row, ``OrderSettings.current()``)."""

    auto_cancel_minutes = models.PositiveIntegerField(
        _("未付款自动取消（分钟）"), default=30, help_text=_("下单后这么久仍未付款，订单自动取消并释放库存")
    )
    auto_complete_days = models.PositiveIntegerField(
        _("签收后自动完成（天）"), default=7, help_text=_("物流显示签收后这么多天自动确认收货")
    )
    unpaid_query_minutes = models.PositiveIntegerField(
        _("补查支付（分钟）"), default=5, help_text=_("下单这么久仍未收到支付通知，主动向微信支付查询")
    )

    class Meta:
        verbose_name = _("订单设置")
        verbose_name_plural = _("订单设置")

    def __str__(self) -> str:
        return str(_("订单设置"))

    @classmethod
    def current(cls) -> "OrderSettings":
        obj = cls.objects.order_by("pk").first()
        return obj or cls.objects.create()


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("待付款")
    PAID = "paid", _("待发货")
    SHIPPED = "shipped", _("待收货")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已取消")


# The allowed transitions, written once (house rule 3; ``core.fsm``). PENDING_PAYMENT → PAID
# happens only in ``record_payment`` (with its Payment row). PAID → COMPLETED is a service
# order's redemption (``redeem_order``: a paid order with nothing to ship). After-sales is not a
# status: a refund is an after-sales record (``mall.payments.Refund``) and the order keeps its place.
ORDER_FSM = StateMachine(
    OrderStatus,
    {
        OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.CANCELLED},
        # PAID → CANCELLED: closed by a full refund before anything shipped (not by a cancel).
        OrderStatus.PAID: {OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.CANCELLED},
        OrderStatus.SHIPPED: {OrderStatus.COMPLETED},
        OrderStatus.COMPLETED: set(),
        OrderStatus.CANCELLED: set(),
    },
    subject=_("订单"),
)


class Order(models.Model):
    # Wagtail's CMS reference index ("usage") has nothing to say about transactional rows:
    # indexing each one cost six statements per order placed.
    wagtail_reference_index_ignore = True

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
    # Amounts in fen, computed on the server: total = goods + shipping + adjustment.
    goods_fen = models.PositiveIntegerField(_("商品金额（分）"), default=0, editable=False)
    shipping_fen = models.PositiveIntegerField(_("运费（分）"), default=0, editable=False)
    adjust_fen = models.IntegerField(_("改价（分）"), default=0, editable=False)
    total_fen = models.PositiveIntegerField(_("应付金额（分）"), editable=False)
    paid_fen = models.PositiveIntegerField(_("实付金额（分）"), default=0, editable=False)
    has_physical = models.BooleanField(_("含实物"), default=True, editable=False)
    has_service = models.BooleanField(_("含服务"), default=False, editable=False)
    # The receiver, copied from the address at checkout (encrypted at rest, PIPL).
    receiver = EncryptedTextField(_("收货人"), blank=True, default="", editable=False)
    receiver_phone = EncryptedTextField(_("收货手机"), blank=True, default="", editable=False)
    receiver_region = models.CharField(_("收货地区"), max_length=80, blank=True, editable=False)
    receiver_province = models.CharField(_("收货省份"), max_length=20, blank=True, editable=False)
    receiver_detail = EncryptedTextField(_("详细地址"), blank=True, default="", editable=False)
    remark = models.CharField(_("买家留言"), max_length=200, blank=True, editable=False)
    idempotency_key = models.CharField(max_length=64, blank=True, default="", editable=False)
    # Service orders: the code the merchant scans or types in to redeem.
    verify_code = models.CharField(_("核销码"), max_length=12, blank=True, editable=False, db_index=True)
    redeemed_at = models.DateTimeField(_("核销时间"), null=True, blank=True, editable=False)
    # Physical orders: set when the carrier reports the first real tracking event.
    has_real_track = models.BooleanField(_("有真实物流"), default=False, editable=False)
    created = models.DateTimeField(_("下单时间"), auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(_("支付截止"), null=True, blank=True, editable=False, db_index=True)
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True, editable=False)
    shipped_at = models.DateTimeField(_("发货时间"), null=True, blank=True, editable=False)
    delivered_at = models.DateTimeField(_("签收时间"), null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True, editable=False)
    # Paid with settle_info.profit_sharing (the store pays commission by splitting the order).
    profit_sharing = models.BooleanField(_("分账订单"), default=False, editable=False)
    # When the distribution engine first looked at the paid order (its earners are fixed then).
    commission_checked_at = models.DateTimeField(_("计佣时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        ordering = ["-created"]
        permissions = [
            ("cancel_order", _("取消订单")),
            ("ship_order", _("发货")),
            ("redeem_order", _("核销")),
            ("adjust_order", _("改价")),
            ("export_order", _("导出订单")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="orders_order_idempotency_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(total_fen=models.F("goods_fen") + models.F("shipping_fen") + models.F("adjust_fen")),
                name="orders_order_total_adds_up",
                violation_error_message=_("订单金额不等于商品金额 + 运费 + 改价。"),
            ),
        ]

    def __str__(self) -> str:
        return self.order_no

    @admin.display(description=_("应付金额"))
    def total_yuan(self) -> str:
        return format_yuan(self.total_fen)

    @admin.display(description=_("实付金额"))
    def paid_yuan(self) -> str:
        return format_yuan(self.paid_fen)

    @property
    def masked_receiver_phone(self) -> str:
        from core import crypto

        return crypto.mask_phone(self.receiver_phone)

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
    PRICE_CHANGED = "price_changed", _("改价")
    SHIPPED = "shipped", _("发货")
    TRACKING = "tracking", _("物流")
    DELIVERED = "delivered", _("签收")
    COMPLETED = "completed", _("完成")
    REDEEMED = "redeemed", _("核销")
    PAYMENT_ANOMALY = "payment_anomaly", _("支付异常")
    REFUND_REQUESTED = "refund_requested", _("申请退款")
    REFUND_APPROVED = "refund_approved", _("同意退款")
    REFUND_DECLINED = "refund_declined", _("拒绝退款")
    REFUND_FINISHED = "refund_finished", _("退款结束")


class OrderEvent(models.Model):
    """The order's timeline, one row per transition or after-sales step (written by the actions
    only, never updated)."""

    wagtail_reference_index_ignore = True

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
    """What was sold, as it was sold: title, SKU, price and image are copied at checkout."""

    wagtail_reference_index_ignore = True

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    sku = models.ForeignKey(ProductSku, on_delete=models.PROTECT, related_name="order_lines", null=True)
    kind = models.CharField(_("类型"), max_length=16, choices=ProductKind.choices, default=ProductKind.PHYSICAL)
    title = models.CharField(_("商品名称"), max_length=100)
    sku_name = models.CharField(_("规格"), max_length=60, blank=True)
    image = models.CharField(_("图片"), max_length=200, blank=True)
    weight_g = models.PositiveIntegerField(_("重量（克）"), default=0)
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


class CartItem(models.Model):
    """The shopper's server-side cart: one row per SKU."""

    wagtail_reference_index_ignore = True

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="cart_items")
    sku = models.ForeignKey(ProductSku, on_delete=models.CASCADE, related_name="cart_items")
    quantity = models.PositiveIntegerField(_("数量"))
    added = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("购物车")
        verbose_name_plural = _("购物车")
        ordering = ["-added", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "sku"], name="orders_cart_sku_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="orders_cart_quantity_positive"),
        ]


class TrackState(models.TextChoices):
    NONE = "none", _("暂无轨迹")
    COLLECTED = "collected", _("已揽收")
    IN_TRANSIT = "in_transit", _("运输中")
    DELIVERING = "delivering", _("派送中")
    DELIVERED = "delivered", _("已签收")
    EXCEPTION = "exception", _("异常")


class Shipment(models.Model):
    """One parcel: a carrier and tracking number for some or all of an order's lines."""

    wagtail_reference_index_ignore = True

    order = models.ForeignKey(Order, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="shipments")
    carrier = models.CharField(_("快递公司"), max_length=20)
    tracking_no = models.CharField(_("运单号"), max_length=40)
    state = models.CharField(
        _("物流状态"), max_length=16, choices=TrackState.choices, default=TrackState.NONE, editable=False
    )
    subscribed = models.BooleanField(_("已订阅轨迹"), default=False, editable=False)
    shipped_at = models.DateTimeField(_("发货时间"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("签收时间"), null=True, blank=True, editable=False)
    # Last time the carrier told us something (a push) or we asked (a query): the re-query beat
    # asks again about parcels silent for longer than TRACKING_REQUERY_HOURS.
    checked_at = models.DateTimeField(_("最近查询轨迹"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("包裹")
        verbose_name_plural = _("包裹")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "tracking_no"], name="orders_shipment_tracking_unique")
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_no}"


class ShipmentLine(models.Model):
    wagtail_reference_index_ignore = True

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = models.PositiveIntegerField(_("数量"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shipment", "line"], name="orders_shipment_line_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="orders_shipment_line_positive"),
        ]


class TrackingEvent(models.Model):
    """A step the carrier reported (push callback or query); never edited."""

    wagtail_reference_index_ignore = True

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    state = models.CharField(_("状态"), max_length=16, choices=TrackState.choices)
    description = models.CharField(_("描述"), max_length=200)
    location = models.CharField(_("地点"), max_length=60, blank=True)
    occurred_at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("物流轨迹")
        verbose_name_plural = _("物流轨迹")
        ordering = ["occurred_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "occurred_at", "description"], name="orders_tracking_event_unique"
            )
        ]
