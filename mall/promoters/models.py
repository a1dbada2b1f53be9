"""Distribution (SPEC M4–M8, U5, U6, D1, D3): promoters, who holds which shopper and why,
the rules of the store, and the commission ledger.

* ``DistributionSettings``: the store's rules, one row (``DistributionSettings.current()``),
  changed only by ``mall.promoters.actions.update_distribution_settings``.
* ``Promoter``: a shopper who promotes; stores its ``parent`` only (the level-2 upline is the
  parent's parent, nothing deeper is ever read or paid: ``rules.MAX_DISTRIBUTION_LEVELS``).
  Its four balances are a cache of the ledger, updated in the transaction that appends the
  entry, and checked by ``manage.py reconcile_commissions``.
* ``Touch``: every share-link click, QR scan, invite-code entry and first payment, immutable
  (the evidence of a binding). ``Binding``: which promoter holds a shopper now, which touch won,
  until when. ``BindingChange``: each change of a binding (the rule, or a merchant's rebind
  with a reason).
* ``LineCommission``: the snapshot taken when an order line is first commissioned: who earns at
  each level, at what rate, and what the line's commission should be now (recomputed on its net
  paid amount after every refund). ``CommissionEntry``: the append-only ledger.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import MoneyField, RateField
from core.money import format_yuan
from mall.customers.models import Customer


class SelfPurchaseMode(models.TextChoices):
    REBATE_ON = "rebate_on", _("自购返佣：推广员自己拿一级，上级拿二级")
    REBATE_OFF = "rebate_off", _("自购不返：上级拿一级，上上级拿二级")
    DISCOUNT = "discount", _("自购立减：一级佣金直接抵扣货款，上级拿二级")


class BindingRule(models.TextChoices):
    FIRST_CLICK = "first_click", _("首次点击分享链接或扫码")
    FIRST_PAYMENT = "first_payment", _("首次付款")
    INVITE_CODE = "invite_code", _("填写邀请码")


class ClawbackPolicy(models.TextChoices):
    NET_OFF = "net_off", _("从推广员后续佣金中扣回（可为负数）")
    MERCHANT_ABSORBS = "merchant_absorbs", _("商家承担损失，不扣推广员")


class PayoutMode(models.TextChoices):
    TRANSFER = "transfer", _("推广员申请提现（微信商家转账）")
    PROFIT_SHARING = "profit_sharing", _("结算时自动分账到推广员微信零钱")


class PromoterThreshold(models.TextChoices):
    NONE = "none", _("无门槛")
    SPENT = "spent", _("累计消费满指定金额")
    BOUGHT = "bought", _("购买过指定商品")


PROMOTER_NAMES = ["推广员", "创客", "推客", "合伙人"]


class DistributionSettings(models.Model):
    """The store's distribution rules (one row). Ranges and the 30 % cap are checked by the
    action that saves them (``update_distribution_settings``), never by a generic form."""

    enabled = models.BooleanField(_("开启分销"), default=True)
    levels = models.PositiveSmallIntegerField(_("分销层级"), default=2, choices=[(1, _("一级")), (2, _("二级"))])
    promoter_name = models.CharField(_("推广员名称"), max_length=8, default="推广员")
    level1_bps = RateField(_("一级佣金比例"), default=1000)
    level2_bps = RateField(_("二级佣金比例"), default=300)
    self_purchase = models.CharField(
        _("自购规则"), max_length=16, choices=SelfPurchaseMode.choices, default=SelfPurchaseMode.REBATE_ON
    )
    binding_rule = models.CharField(
        _("绑定规则"), max_length=16, choices=BindingRule.choices, default=BindingRule.FIRST_CLICK
    )
    binding_days = models.PositiveIntegerField(_("绑定有效期（天）"), default=0, help_text=_("0 为永久绑定"))
    settle_days = models.PositiveIntegerField(_("结算周期 T+N（天）"), default=7)
    clawback = models.CharField(
        _("结算后退款"), max_length=20, choices=ClawbackPolicy.choices, default=ClawbackPolicy.NET_OFF
    )
    threshold = models.CharField(
        _("成为推广员门槛"), max_length=10, choices=PromoterThreshold.choices, default=PromoterThreshold.NONE
    )
    threshold_spent_fen = MoneyField(_("累计消费门槛"), default=0)
    threshold_product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("指定商品"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    auto_approve = models.BooleanField(_("自动审核申请"), default=True)
    agreement_text = models.TextField(_("分销协议"), blank=True)
    agreement_version = models.PositiveIntegerField(_("协议版本"), default=1, editable=False)
    payout_mode = models.CharField(
        _("佣金发放方式"), max_length=16, choices=PayoutMode.choices, default=PayoutMode.TRANSFER
    )
    # Withdrawals (M16, D3).
    withdraw_min_fen = MoneyField(_("最低提现金额"), default=1000)
    withdraw_daily_count = models.PositiveIntegerField(_("每日提现次数"), default=3)
    withdraw_daily_fen = MoneyField(_("每日提现上限"), default=500000)
    withdraw_fee_free_under_fen = MoneyField(_("免手续费额度"), default=10000, help_text=_("低于此金额不收手续费"))
    withdraw_fee_bps = RateField(_("手续费比例"), default=0, max_bps=1000)
    withdraw_auto_review_under_fen = MoneyField(_("自动审核额度"), default=20000, help_text=_("低于此金额自动通过"))
    # Team dividends (M6): a monthly bonus on the sales of a promoter's two-level team.
    dividend_enabled = models.BooleanField(_("开启团队分红"), default=False)
    dividend_threshold_fen = MoneyField(_("团队月销售额达到"), default=1_000_000)
    dividend_bps = RateField(_("团队分红比例"), default=100, max_bps=1000)
    updated = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("分销设置")
        verbose_name_plural = _("分销设置")

    def __str__(self) -> str:
        return str(_("分销设置"))

    @classmethod
    def current(cls) -> DistributionSettings:
        obj = cls.objects.order_by("pk").first()
        return obj or cls.objects.create()


class PromoterStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACTIVE = "active", _("正常")
    FROZEN = "frozen", _("已冻结")
    REJECTED = "rejected", _("已拒绝")


class Grade(models.Model):
    """A promoter grade (普通 → 高级…): a bonus on the level-1 rate, reached by own sales and
    by direct invitees who became promoters (never level-2 invitees)."""

    name = models.CharField(_("等级名称"), max_length=20, unique=True)
    rank = models.PositiveSmallIntegerField(_("等级"), default=1, unique=True)
    bonus_bps = RateField(_("一级佣金加成"), default=0, max_bps=1000)
    min_sales_fen = MoneyField(_("个人销售额达到"), default=0)
    min_direct_promoters = models.PositiveIntegerField(_("直接邀请推广员数达到"), default=0)

    class Meta:
        verbose_name = _("推广员等级")
        verbose_name_plural = _("推广员等级")
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name


class Promoter(models.Model):
    """A shopper who promotes the store. ``parent`` is the only relation stored: the level-2
    upline is the parent's parent, and no deeper level is ever read or paid."""

    customer = models.OneToOneField(Customer, verbose_name=_("顾客"), on_delete=models.PROTECT, related_name="promoter")
    parent = models.ForeignKey(
        "self", verbose_name=_("上级推广员"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    invite_code = models.CharField(_("邀请码"), max_length=12, unique=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=PromoterStatus.choices, default=PromoterStatus.ACTIVE, editable=False
    )
    grade = models.ForeignKey(
        Grade, verbose_name=_("等级"), on_delete=models.PROTECT, null=True, blank=True, related_name="promoters"
    )
    level1_override_bps = RateField(_("专属一级比例"), null=True, blank=True, editable=False)
    level2_override_bps = RateField(_("专属二级比例"), null=True, blank=True, editable=False)
    agreement_version = models.PositiveIntegerField(_("已签协议版本"), null=True, blank=True, editable=False)
    agreement_accepted_at = models.DateTimeField(_("签署协议时间"), null=True, blank=True, editable=False)
    # The ledger's balances, cached (updated with each entry, checked by reconcile_commissions).
    pending_fen = models.IntegerField(_("待结算"), default=0, editable=False)
    available_fen = models.IntegerField(_("可提现"), default=0, editable=False)  # < 0: the promoter owes
    inflight_fen = models.IntegerField(_("提现中"), default=0, editable=False)
    withdrawn_fen = models.IntegerField(_("已提现"), default=0, editable=False)
    sales_fen = models.BigIntegerField(_("推广销售额"), default=0, editable=False)
    joined_at = models.DateTimeField(_("加入时间"), auto_now_add=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True, editable=False)
    status_reason = models.CharField(_("状态说明"), max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("推广员")
        verbose_name_plural = _("推广员")
        ordering = ["-joined_at"]
        permissions = [
            ("review_promoter", _("审核推广员")),
            ("freeze_promoter", _("冻结推广员")),
            ("override_promoter_rate", _("设置专属佣金比例")),
            ("adjust_commission", _("手工调整佣金")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")),
                name="promoters_not_own_parent",
                violation_error_message=_("推广员不能是自己的上级。"),
            ),
            models.CheckConstraint(condition=models.Q(pending_fen__gte=0), name="promoters_pending_not_negative"),
            models.CheckConstraint(condition=models.Q(inflight_fen__gte=0), name="promoters_inflight_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} [{self.invite_code}]"

    @property
    def owed_fen(self) -> int:
        return max(-self.available_fen, 0)

    @property
    def settled_fen(self) -> int:
        """Settled earnings: what is withdrawable, in flight and paid out, less what is owed."""
        return self.available_fen + self.inflight_fen + self.withdrawn_fen

    def balance_yuan(self) -> str:
        return format_yuan(self.available_fen)


class TouchSource(models.TextChoices):
    LINK = "link", _("分享链接")
    QR = "qr", _("扫码")
    INVITE_CODE = "invite_code", _("邀请码")
    PAYMENT = "payment", _("首次付款")


class Touch(models.Model):
    """One contact between a shopper and a promoter's promotion: never edited or deleted."""

    wagtail_reference_index_ignore = True

    customer = models.ForeignKey(Customer, verbose_name=_("顾客"), on_delete=models.PROTECT, related_name="touches")
    promoter = models.ForeignKey(Promoter, verbose_name=_("推广员"), on_delete=models.PROTECT, related_name="touches")
    source = models.CharField(_("来源"), max_length=12, choices=TouchSource.choices)
    scene = models.CharField(_("场景值"), max_length=64, blank=True)
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("订单"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    device = models.CharField(_("设备指纹"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    created = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("推广触达")
        verbose_name_plural = _("推广触达")
        ordering = ["-created", "-pk"]


class Binding(models.Model):
    """Which promoter holds a shopper (its level-1 earner when it buys), from which touch."""

    wagtail_reference_index_ignore = True

    customer = models.OneToOneField(Customer, verbose_name=_("顾客"), on_delete=models.PROTECT, related_name="binding")
    promoter = models.ForeignKey(Promoter, verbose_name=_("推广员"), on_delete=models.PROTECT, related_name="bindings")
    touch = models.ForeignKey(
        Touch, verbose_name=_("生效触达"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rule = models.CharField(_("绑定规则"), max_length=16, choices=BindingRule.choices, blank=True)
    bound_at = models.DateTimeField(_("绑定时间"))
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("绑定关系")
        verbose_name_plural = _("绑定关系")


class BindingChange(models.Model):
    """Audit of a binding: each bind, expiry replacement and merchant rebind (with reason)."""

    wagtail_reference_index_ignore = True

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="binding_changes")
    from_promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    to_promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, related_name="+")
    touch = models.ForeignKey(Touch, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    created = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["created", "pk"]


class LineCommission(models.Model):
    """The commission of one order line at one level: the earner and rate snapshotted when the
    line was first commissioned, and what the line should pay now (``target_fen``, recomputed on
    the line's net paid amount after each refund). The ledger entries of the line sum to it."""

    wagtail_reference_index_ignore = True

    line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="commissions")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="commissions")
    level = models.PositiveSmallIntegerField(_("层级"))
    promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, related_name="line_commissions")
    rate_bps = models.PositiveIntegerField(_("比例"), default=0)
    unit_fen = models.PositiveIntegerField(_("每件固定佣金"), null=True, blank=True)
    rate_source = models.CharField(_("比例来源"), max_length=16)
    base_fen = models.PositiveIntegerField(_("计佣金额"), default=0)
    target_fen = models.PositiveIntegerField(_("应得佣金"), default=0)
    cut_fen = models.PositiveIntegerField(_("封顶扣减"), default=0)
    settled = models.BooleanField(_("已结算"), default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "level"], name="promoters_line_commission_unique"),
            models.CheckConstraint(condition=models.Q(level__in=[1, 2]), name="promoters_line_commission_two_levels"),
        ]
        indexes = [  # the settlement beat scans unsettled rows only
            models.Index(fields=["order"], condition=models.Q(settled=False), name="promoters_lc_unsettled_order")
        ]


class LineDividend(models.Model):
    """A team dividend on one order line: the leader whose two-level team sold it in a month
    that reached the store's threshold. Recomputed with the line (a refund lowers it), and cut
    first when the line's commission would pass the 30 % cap."""

    wagtail_reference_index_ignore = True

    line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="dividends")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="dividends")
    promoter = models.ForeignKey(Promoter, on_delete=models.PROTECT, related_name="line_dividends")
    period = models.DateField(_("分红月份"))
    rate_bps = models.PositiveIntegerField(_("比例"))
    base_fen = models.PositiveIntegerField(_("计佣金额"), default=0)
    target_fen = models.PositiveIntegerField(_("应得分红"), default=0)
    cut_fen = models.PositiveIntegerField(_("封顶扣减"), default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["line", "promoter"], name="promoters_line_dividend_unique")]


class EntryKind(models.TextChoices):
    ACCRUED = "accrued", _("计佣")
    ADJUSTED = "adjusted", _("退款调整")
    SETTLED = "settled", _("结算")
    CLAWBACK = "clawback", _("结算后扣回")
    ABSORBED = "absorbed", _("商家承担")
    WITHDRAWN = "withdrawn", _("提现")
    PAID_OUT = "paid_out", _("提现到账")
    RETURNED = "returned", _("提现退回")
    MANUAL = "manual", _("手工调整")
    DIVIDEND = "dividend", _("团队分红")


class CommissionEntry(models.Model):
    """One row of the ledger; never updated or deleted. Each entry moves money between the
    promoter's buckets (``*_delta``); the balances on ``Promoter`` are their sums.

    ``amount_fen`` is the entry's own signed amount (what the console and the export show);
    ``absorbed`` entries move nothing (the merchant bore the loss) but keep the line exact."""

    wagtail_reference_index_ignore = True

    promoter = models.ForeignKey(Promoter, verbose_name=_("推广员"), on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("类型"), max_length=12, choices=EntryKind.choices)
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("订单"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    commission = models.ForeignKey(
        LineCommission, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    dividend = models.ForeignKey(
        LineDividend, on_delete=models.PROTECT, null=True, blank=True, related_name="entries", db_index=False
    )
    level = models.PositiveSmallIntegerField(_("层级"), null=True, blank=True)
    rate_bps = models.PositiveIntegerField(_("比例"), null=True, blank=True)
    base_fen = models.IntegerField(_("计佣金额"), null=True, blank=True)
    amount_fen = models.IntegerField(_("金额"))
    cut_fen = models.PositiveIntegerField(_("封顶扣减"), default=0)
    pending_delta = models.IntegerField(default=0)
    available_delta = models.IntegerField(default=0)
    inflight_delta = models.IntegerField(default=0)
    withdrawn_delta = models.IntegerField(default=0)
    refund = models.ForeignKey(
        "payments.Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    withdrawal = models.ForeignKey(
        "promoters.Withdrawal", on_delete=models.PROTECT, null=True, blank=True, related_name="entries", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("佣金明细")
        verbose_name_plural = _("佣金明细")
        ordering = ["-created", "-pk"]
        permissions = [("export_commissionentry", _("导出佣金明细"))]
        # Mostly-NULL references get partial indexes: most entries (accrued, settled) skip them.
        indexes = [
            models.Index(fields=[f], condition=models.Q(**{f"{f}__isnull": False}), name=f"promoters_entry_{f}_set")
            for f in ("dividend", "refund", "withdrawal", "actor")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__isnull=True) | models.Q(level__in=[1, 2]), name="promoters_entry_two_levels"
            )
        ]

    @property
    def amount_yuan(self) -> str:
        return format_yuan(self.amount_fen)


class WithdrawalStatus(models.TextChoices):
    REVIEWING = "reviewing", _("待审核")
    APPROVED = "approved", _("待转账")
    WAIT_USER = "wait_user", _("待用户确认收款")
    TRANSFERRING = "transferring", _("转账中")
    SUCCESS = "success", _("已到账")
    FAILED = "failed", _("转账失败")
    CANCELLED = "cancelled", _("已撤销")
    REJECTED = "rejected", _("已拒绝")


class WithdrawalChannel(models.TextChoices):
    TRANSFER = "transfer", _("商家转账")
    PROFIT_SHARING = "profit_sharing", _("订单分账")


class Withdrawal(models.Model):
    """Money leaving a promoter's balance: a request paid by WeChat 商家转账 (the user confirms),
    or, in the profit-sharing payout mode, the promoter's part of one order's split at
    settlement (``order`` set, channel ``profit_sharing``)."""

    wagtail_reference_index_ignore = True

    promoter = models.ForeignKey(
        Promoter, verbose_name=_("推广员"), on_delete=models.PROTECT, related_name="withdrawals"
    )
    channel = models.CharField(
        _("方式"), max_length=16, choices=WithdrawalChannel.choices, default=WithdrawalChannel.TRANSFER, editable=False
    )
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("分账订单"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount_fen = models.PositiveIntegerField(_("提现金额"))
    fee_fen = models.PositiveIntegerField(_("手续费"), default=0)
    net_fen = models.PositiveIntegerField(_("到账金额"))
    status = models.CharField(
        _("状态"), max_length=16, choices=WithdrawalStatus.choices, default=WithdrawalStatus.REVIEWING, editable=False
    )
    idempotency_key = models.CharField(max_length=64, blank=True, default="", editable=False)
    out_bill_no = models.CharField(_("转账单号"), max_length=32, blank=True, editable=False)
    transfer_bill_no = models.CharField(_("微信转账单号"), max_length=64, blank=True, editable=False)
    package_info = models.TextField(blank=True, editable=False)
    failure = models.CharField(_("失败原因"), max_length=200, blank=True, editable=False)
    created = models.DateTimeField(_("申请时间"), auto_now_add=True, db_index=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("提现")
        verbose_name_plural = _("提现")
        ordering = ["-created", "-pk"]
        permissions = [("review_withdrawal", _("审核提现"))]
        constraints = [
            models.UniqueConstraint(
                fields=["promoter", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="promoters_withdrawal_idempotency_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(net_fen=models.F("amount_fen") - models.F("fee_fen")),
                name="promoters_withdrawal_net_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.promoter_id} {format_yuan(self.amount_fen)}"


class LogAction(models.TextChoices):
    SETTINGS = "settings", _("修改分销设置")
    GRADE = "grade", _("保存等级")
    GRADE_UP = "grade_up", _("等级提升")
    APPLY = "apply", _("申请成为推广员")
    APPROVE = "approve", _("通过申请")
    REJECT = "reject", _("拒绝申请")
    FREEZE = "freeze", _("冻结")
    UNFREEZE = "unfreeze", _("解除冻结")
    OVERRIDE = "override", _("设置专属比例")


class DistributionLog(models.Model):
    """Who changed a distribution rule or a promoter's standing, when and how (never edited)."""

    wagtail_reference_index_ignore = True

    action = models.CharField(_("操作"), max_length=12, choices=LogAction.choices)
    promoter = models.ForeignKey(
        Promoter, verbose_name=_("推广员"), on_delete=models.PROTECT, null=True, blank=True, related_name="logs"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("说明"), max_length=500, blank=True)
    created = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("分销操作记录")
        verbose_name_plural = _("分销操作记录")
        ordering = ["-created", "-pk"]
