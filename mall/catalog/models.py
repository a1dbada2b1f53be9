"""A store's catalog (tenant schema): a two-level category tree, products of kind physical or
service, each sold as one or more SKUs (price, stock and code per SKU), their images and
e-contracts (object storage, under the tenant's prefix), and shipping-fee templates.

``Product.price_fen`` (the lowest SKU price) and ``Product.stock`` (the SKUs' total) are
derived columns kept by the actions (``mall.catalog.actions.sync_product``) so that lists sort
and filter in SQL; the SKU is the unit that is sold and whose stock is taken."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.fields import RichTextField

from core.fields import MoneyField, RateField

MAX_CATEGORY_DEPTH = 2  # a top category and its sub-categories, no deeper


class Category(models.Model):
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级分类"),
        on_delete=models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
        help_text=_("留空为一级分类；分类最多两级。"),
    )
    name = models.CharField(_("名称"), max_length=40)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    # Distribution: the category's own rates (over the store's, under a product's own).
    commission_l1_bps = RateField(_("一级佣金比例"), max_bps=3000, null=True, blank=True)
    commission_l2_bps = RateField(_("二级佣金比例"), max_bps=3000, null=True, blank=True)

    class Meta:
        verbose_name = _("商品分类")
        verbose_name_plural = _("商品分类")
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        if self.parent_id:
            return f"{self.parent.name} / {self.name}"
        return self.name

    def tree_label(self) -> str:
        """The name as the console's category tree shows it (sub-categories indented)."""
        return f"└ {self.name}" if self.parent_id else self.name

    tree_label.short_description = _("名称")

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.parent_id:
            if self.parent_id == self.pk:
                raise ValidationError({"parent": _("分类不能以自己为上级。")})
            if self.parent.parent_id:
                raise ValidationError({"parent": _("分类最多两级：请选择一个一级分类作为上级。")})
            if self.pk and Category.objects.filter(parent_id=self.pk).exists():
                raise ValidationError({"parent": _("该分类下已有子分类，不能再设上级。")})


class ShippingTemplate(ClusterableModel):
    """Shipping fee of physical goods: first weight + each additional weight, by the
    receiver's province (region rules), free when the goods total reaches ``free_over_fen``."""

    name = models.CharField(_("模板名称"), max_length=40)
    free_over_fen = MoneyField(_("满额包邮"), null=True, blank=True, help_text=_("单位：元；留空为不包邮"))
    first_weight_g = models.PositiveIntegerField(_("首重（克）"), default=1000)
    first_fee_fen = MoneyField(_("首重运费"), default=0)
    extra_weight_g = models.PositiveIntegerField(_("续重单位（克）"), default=1000)
    extra_fee_fen = MoneyField(_("续重运费"), default=0)
    created = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("运费模板")
        verbose_name_plural = _("运费模板")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(first_weight_g__gt=0) & models.Q(extra_weight_g__gt=0),
                name="catalog_shipping_weights_positive",
                violation_error_message=_("首重和续重单位必须大于 0 克。"),
            )
        ]

    def __str__(self) -> str:
        return self.name


class ShippingRegionRule(models.Model):
    """Fees for some provinces (e.g. 新疆、西藏) instead of the template's defaults."""

    template = ParentalKey(ShippingTemplate, on_delete=models.CASCADE, related_name="region_rules")
    provinces = models.CharField(_("省份"), max_length=400, help_text=_("用顿号或逗号分隔，例如：新疆、西藏"))
    first_fee_fen = MoneyField(_("首重运费"), default=0)
    extra_fee_fen = MoneyField(_("续重运费"), default=0)
    sort_order = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("地区运费")
        verbose_name_plural = _("地区运费")
        ordering = ["sort_order", "pk"]

    def province_list(self) -> list[str]:
        import re

        return [p.strip() for p in re.split(r"[、,，;；\s]+", self.provinces) if p.strip()]


class ProductKind(models.TextChoices):
    PHYSICAL = "physical", _("实物商品")
    SERVICE = "service", _("服务商品")


class Product(ClusterableModel):
    kind = models.CharField(_("类型"), max_length=16, choices=ProductKind.choices, default=ProductKind.PHYSICAL)
    category = models.ForeignKey(
        Category, verbose_name=_("分类"), on_delete=models.PROTECT, related_name="products", null=True, blank=True
    )
    title = models.CharField(_("商品名称"), max_length=100)
    subtitle = models.CharField(_("卖点"), max_length=200, blank=True)
    description = RichTextField(_("详情"), blank=True)
    cover = models.ImageField(_("封面图"), upload_to="products/covers/", blank=True, max_length=200)
    # Derived from the SKUs by the actions (lowest price, total stock): sortable in SQL.
    price_fen = MoneyField(_("价格"), min_fen=1, help_text=_("单位：元，例如 39.90"))
    stock = models.PositiveIntegerField(_("库存"), default=0)
    on_shelf = models.BooleanField(_("上架"), default=True)
    is_hot = models.BooleanField(_("热销"), default=False)
    low_stock_threshold = models.PositiveIntegerField(
        _("库存预警"), default=10, help_text=_("任一规格库存低于此数时提醒补货")
    )
    # Distribution (read by the distribution engine): whether the product earns commission and
    # its own rates; empty rates fall back to the store's defaults.
    is_distributable = models.BooleanField(_("参与分销"), default=True)
    commission_l1_bps = RateField(_("一级佣金比例"), max_bps=3000, null=True, blank=True)
    commission_l2_bps = RateField(_("二级佣金比例"), max_bps=3000, null=True, blank=True)
    # A fixed amount per unit instead of a percentage (wins over the product's rate).
    commission_l1_fen = MoneyField(_("一级每件固定佣金"), null=True, blank=True)
    commission_l2_fen = MoneyField(_("二级每件固定佣金"), null=True, blank=True)
    # Physical goods.
    weight_g = models.PositiveIntegerField(_("重量（克）"), default=0)
    origin = models.CharField(_("产地"), max_length=60, blank=True)
    shelf_life_days = models.PositiveIntegerField(_("保质期（天）"), null=True, blank=True)
    shipping_template = models.ForeignKey(
        ShippingTemplate,
        verbose_name=_("运费模板"),
        on_delete=models.PROTECT,
        related_name="products",
        null=True,
        blank=True,
        help_text=_("留空为包邮"),
    )
    # Service goods (travel routes, e-vouchers); tiered prices are SKUs (成人/儿童/长者).
    travel_date = models.DateField(_("出行日期"), null=True, blank=True)
    travel_end_date = models.DateField(_("结束日期"), null=True, blank=True)
    restrictions = models.TextField(_("出行限制"), blank=True, help_text=_("年龄、身体条件、证件等要求"))
    sales_count = models.PositiveIntegerField(_("销量"), default=0, editable=False)
    created = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        ordering = ["-is_hot", "pk"]
        permissions = [("batch_edit_product", _("批量修改商品"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_fen__gt=0),
                name="catalog_product_price_positive",
                violation_error_message=_("价格必须大于 0。"),
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_service(self) -> bool:
        return self.kind == ProductKind.SERVICE


class ProductSku(models.Model):
    """One purchasable variant: 5斤装 / 10斤装, 成人票 / 儿童票. Price, stock and code per SKU."""

    product = ParentalKey(Product, on_delete=models.CASCADE, related_name="skus")
    name = models.CharField(_("规格"), max_length=60, help_text=_("例如：5斤装、成人票"))
    specs = models.JSONField(_("规格值"), default=dict, blank=True, editable=False)
    code = models.CharField(_("编码"), max_length=40, blank=True)
    price_fen = MoneyField(_("价格"), min_fen=1, help_text=_("单位：元"))
    original_price_fen = MoneyField(_("划线价"), null=True, blank=True)
    stock = models.PositiveIntegerField(_("库存"), default=0)
    is_active = models.BooleanField(_("可售"), default=True)
    sort_order = models.PositiveIntegerField(default=0, editable=False)
    low_stock_noticed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("商品规格")
        verbose_name_plural = _("商品规格")
        ordering = ["sort_order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price_fen__gt=0),
                name="catalog_sku_price_positive",
                violation_error_message=_("价格必须大于 0。"),
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=~models.Q(code=""),
                name="catalog_sku_code_unique",
                violation_error_message=_("规格编码已被其他商品使用。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.title} {self.name}" if self.product_id else self.name


class ProductImage(models.Model):
    product = ParentalKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("图片"), upload_to="products/images/", max_length=200)
    sort_order = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("商品图片")
        verbose_name_plural = _("商品图片")
        ordering = ["sort_order", "pk"]


class ProductContract(models.Model):
    """An e-contract (PDF) of a service product. Each upload is a new version; the shopper
    previews and accepts the newest one before buying (``ContractAcceptance``)."""

    product = models.ForeignKey(Product, verbose_name=_("商品"), on_delete=models.PROTECT, related_name="contracts")
    version = models.PositiveIntegerField(_("版本"), editable=False)
    title = models.CharField(_("合同名称"), max_length=80)
    file = models.FileField(_("合同 PDF"), upload_to="contracts/", max_length=200)
    created = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("电子合同")
        verbose_name_plural = _("电子合同")
        ordering = ["product", "-version"]
        constraints = [models.UniqueConstraint(fields=["product", "version"], name="catalog_contract_version_unique")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class ContractAcceptance(models.Model):
    """A shopper accepted a contract version (append-only; written by ``accept_contract``)."""

    # not indexed by Wagtail (see mall.orders.models.Order)
    wagtail_reference_index_ignore = True

    contract = models.ForeignKey(
        ProductContract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="acceptances"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("顾客"), on_delete=models.PROTECT, related_name="contract_acceptances"
    )
    accepted_at = models.DateTimeField(_("签署时间"), auto_now_add=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)

    class Meta:
        verbose_name = _("合同签署")
        verbose_name_plural = _("合同签署")
        ordering = ["-accepted_at"]


class StockNotice(models.Model):
    """A merchant-visible notice: a SKU fell below its product's low-stock threshold (written
    once per crossing by the outbox handler ``mall.catalog.effects.write_stock_notices``)."""

    sku = models.ForeignKey(ProductSku, verbose_name=_("规格"), on_delete=models.CASCADE, related_name="stock_notices")
    stock = models.PositiveIntegerField(_("当时库存"))
    threshold = models.PositiveIntegerField(_("预警值"))
    created = models.DateTimeField(_("提醒时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("库存提醒")
        verbose_name_plural = _("库存提醒")
        ordering = ["-created", "-pk"]
