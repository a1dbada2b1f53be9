from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from core import console as scope
from core.columns import BoolColumn, MoneyColumn
from mall.catalog.models import Category, Product


class ProductViewSet(ModelViewSet):
    model = Product
    icon = "tag"
    menu_label = _("商品")
    url_prefix = "catalog/products"
    list_display = [
        "title",
        "category",
        "kind",
        MoneyColumn("price_fen", label=_("价格")),
        "stock",
        "sales_count",
        BoolColumn("on_shelf", label=_("上架")),
        BoolColumn("is_hot", label=_("热销")),
    ]
    list_filter = ["kind", "category", "on_shelf", "is_hot", "is_distributable"]
    search_fields = ["title", "subtitle"]
    form_fields = [
        "kind",
        "category",
        "title",
        "subtitle",
        "description",
        "price_fen",
        "stock",
        "on_shelf",
        "is_hot",
        "is_distributable",
    ]


class CategoryViewSet(ModelViewSet):
    model = Category
    icon = "folder-open-inverse"
    menu_label = _("分类")
    url_prefix = "catalog/categories"
    list_display = ["name", "sort_order"]
    form_fields = ["name", "sort_order"]


class CatalogGroup(ModelViewSetGroup):
    menu_label = _("商品管理")
    menu_icon = "tag"
    menu_order = 200
    items = (ProductViewSet("products"), CategoryViewSet("categories"))


catalog_group = CatalogGroup()
for vs in catalog_group.registerables:
    scope.merchant_only(vs)


@hooks.register("register_admin_viewset")
def register_catalog():
    return catalog_group
