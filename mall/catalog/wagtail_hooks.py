import django_filters
from django.contrib import messages
from django.db.models import ProtectedError
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.views.generic.models import DeleteView, IndexView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from core import console as scope
from core.columns import BoolColumn, MoneyColumn
from core.xlsx import XlsxExportMixin
from mall.catalog import exports
from mall.catalog.models import Category, Product
from mall.catalog.selectors import low_stock_products


class InUseAwareDeleteView(DeleteView):
    """A product that was ordered, or a category that still has products, is kept (the database
    protects it): say so instead of failing. Deleting takes the confirmation form (POST), not
    a bare HTTP DELETE."""

    http_method_names = ["get", "post", "head", "options"]

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ProtectedError:
            messages.error(
                self.request,
                gettext("“%(obj)s”仍被订单或商品引用，不能删除；可以改为下架。") % {"obj": self.object},
            )
            return redirect(self.index_url_name)


class ProductFilterSet(WagtailFilterSet):
    low_stock = django_filters.BooleanFilter(label=_("库存不足"), method="filter_low_stock")

    class Meta:
        model = Product
        fields = ["kind", "category", "on_shelf", "is_hot", "is_distributable"]

    def filter_low_stock(self, queryset, name, value):
        if value is None:
            return queryset
        low = low_stock_products().values("pk")
        return queryset.filter(pk__in=low) if value else queryset.exclude(pk__in=low)


class ProductIndexView(XlsxExportMixin, IndexView):
    """The product list, exportable to XLSX (one row per SKU, the list's filters applied)."""

    export_permission = "catalog.view_product"
    export_filename = "products"
    export_title = _("商品")

    def export_columns(self):
        return exports.product_export_columns()

    def export_rows(self, queryset):
        return exports.product_sku_rows(queryset, chunk_size=self.export_chunk_size)


class ProductViewSet(ModelViewSet):
    model = Product
    index_view_class = ProductIndexView
    delete_view_class = InUseAwareDeleteView
    copy_view_enabled = False
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
    filterset_class = ProductFilterSet
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
    delete_view_class = InUseAwareDeleteView
    copy_view_enabled = False
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
