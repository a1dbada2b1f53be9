from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    name = models.CharField(_("名称"), max_length=40)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("商品分类")
        verbose_name_plural = _("商品分类")
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.name


class ProductKind(models.TextChoices):
    PHYSICAL = "physical", _("实物商品")
    SERVICE = "service", _("服务商品")


class Product(models.Model):
    kind = models.CharField(_("类型"), max_length=16, choices=ProductKind.choices, default=ProductKind.PHYSICAL)
    category = models.ForeignKey(
        Category, verbose_name=_("分类"), on_delete=models.PROTECT, related_name="products", null=True, blank=True
    )
    title = models.CharField(_("商品名称"), max_length=100)
    subtitle = models.CharField(_("卖点"), max_length=200, blank=True)
    description = models.TextField(_("详情"), blank=True)
    # The validator turns the database constraint below into a field error on forms.
    price_fen = models.PositiveIntegerField(
        _("价格（分）"), validators=[MinValueValidator(1, message=_("价格须大于 0。"))]
    )
    stock = models.PositiveIntegerField(_("库存"), default=0)
    on_shelf = models.BooleanField(_("上架"), default=True)
    is_hot = models.BooleanField(_("热销"), default=False)
    is_distributable = models.BooleanField(_("参与分销"), default=True)
    sales_count = models.PositiveIntegerField(_("销量"), default=0, editable=False)
    created = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        ordering = ["-is_hot", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price_fen__gt=0), name="catalog_product_price_positive")
        ]

    def __str__(self) -> str:
        return self.title
