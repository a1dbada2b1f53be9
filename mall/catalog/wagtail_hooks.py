"""Merchant console: the catalog (products with SKUs and images, categories as a two-level tree,
shipping templates, e-contracts) and the products' batch edit.

Products, categories and shipping templates are edited with Wagtail's forms; every save keeps the
product's derived price/stock (``sync_product``) and invalidates the storefront cache. E-contracts
are only uploaded (``upload_contract`` sets the version); the batch edit is a list-level form that
calls ``batch_edit_products`` (which checks ``catalog.batch_edit_product``)."""

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, ProtectedError
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.models import CreateView, DeleteView, IndexView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets.button import HeaderButton

from core import console as scope
from core.columns import BoolColumn, MoneyColumn
from core.forms import add_action_errors
from core.xlsx import XlsxExportMixin
from mall.catalog import actions, exports
from mall.catalog.models import Category, Product, ProductContract, ProductKind, ShippingTemplate, StockNotice
from mall.catalog.selectors import low_stock_products, low_stock_skus

# Contracts are versioned and accepted by shoppers: uploaded (an action), never edited or deleted.
scope.action_only_policy(ProductContract, allow=frozenset({"view", "add"}))
BATCH_PERM = "catalog.batch_edit_product"


class InUseAwareDeleteView(DeleteView):
    """A product that was ordered, or a category that still has products, is kept (the database
    protects it): say so instead of failing. Deleting takes the confirmation form (POST), not
    a bare HTTP DELETE."""

    http_method_names = ["get", "post", "head", "options"]

    def form_valid(self, form):
        try:
            response = super().form_valid(form)
        except ProtectedError:
            messages.error(
                self.request,
                gettext("“%(obj)s”仍被订单或商品引用，不能删除；可以改为下架。") % {"obj": self.object},
            )
            return redirect(self.index_url_name)
        actions.catalog_changed()
        return response


class CatalogForm(WagtailAdminModelForm):
    """Saving any catalog row makes the cached storefront reads stale."""

    def save(self, commit=True):
        instance = super().save(commit=commit)
        if commit:
            actions.catalog_changed()
        return instance


# -- products ----------------------------------------------------------------------------------


class ProductForm(CatalogForm):
    """A product needs at least one SKU; its price (lowest active SKU price) and stock (the SKUs'
    total) are derived from them, never typed."""

    def live_sku_forms(self):
        formset = self.formsets.get("skus")
        if formset is None:
            return []
        return [f for f in formset.forms if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")]

    def clean(self):
        cleaned = super().clean()
        formset = self.formsets.get("skus")
        if formset is not None and formset.is_valid() and not self.live_sku_forms():
            message = gettext("请至少添加一个规格（价格、库存按规格填写）。")
            formset._non_form_errors = formset.error_class([message])
            self.add_error(None, message)
        if cleaned.get("kind") == ProductKind.PHYSICAL and (
            cleaned.get("travel_date") or cleaned.get("travel_end_date")
        ):
            self.add_error("travel_date", gettext("实物商品不填写出行日期。"))
        start, end = cleaned.get("travel_date"), cleaned.get("travel_end_date")
        if start and end and end < start:
            self.add_error("travel_end_date", gettext("结束日期不能早于出行日期。"))
        return cleaned

    def save(self, commit=True):
        live = [f.cleaned_data for f in self.live_sku_forms()]
        if live:
            active = [d for d in live if d.get("is_active")] or live
            self.instance.price_fen = min(d["price_fen"] for d in active)
            self.instance.stock = sum(d.get("stock") or 0 for d in active)
        product = super().save(commit=commit)
        if commit:
            actions.sync_product(product=product)
        return product


class CategoryChoiceFilter(django_filters.ModelChoiceFilter):
    """A category and its sub-categories."""

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(category_id__in=[value.pk, *value.children.values_list("pk", flat=True)])


class ProductFilterSet(WagtailFilterSet):
    category = CategoryChoiceFilter(label=_("分类"), queryset=Category.objects.select_related("parent"))
    low_stock = django_filters.BooleanFilter(label=_("库存不足"), method="filter_low_stock")

    class Meta:
        model = Product
        fields = ["kind", "category", "on_shelf", "is_hot", "is_distributable"]

    def filter_low_stock(self, queryset, name, value):
        if value is None:
            return queryset
        low = low_stock_products().values("pk")
        return queryset.filter(pk__in=low) if value else queryset.exclude(pk__in=low)


class CoverColumn(Column):
    cell_template_name = "catalog/cover_cell.html"


class ProductIndexView(XlsxExportMixin, IndexView):
    """The product list: low-stock alert, batch edit, and an XLSX export (one row per SKU, the
    list's filters applied, streamed)."""

    export_permission = "catalog.view_product"
    export_filename = "products"
    export_title = _("商品")
    template_name = "catalog/product_index.html"

    @property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if self.request.user.has_perm(BATCH_PERM):
            buttons.append(HeaderButton(gettext("批量修改"), url=reverse("products:batch"), icon_name="list-ul"))
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        low = low_stock_skus()
        context["low_stock_count"] = low.count()
        context["low_stock_url"] = reverse("products:index") + "?low_stock=true"
        context["stock_notices"] = StockNotice.objects.select_related("sku__product")[:5]
        return context

    def export_columns(self):
        return exports.product_export_columns()

    def export_rows(self, queryset):
        return exports.product_sku_rows(queryset, chunk_size=self.export_chunk_size)


class ProductViewSet(ModelViewSet):
    model = Product
    export_filename = "products"  # the download's name (Wagtail passes its own to the index view)
    index_view_class = ProductIndexView
    delete_view_class = InUseAwareDeleteView
    copy_view_enabled = False
    icon = "tag"
    menu_label = _("商品")
    url_prefix = "catalog/products"
    list_display = [
        "title",
        CoverColumn("cover", label=_("封面")),
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
    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    FieldPanel("kind"),
                    FieldPanel("category"),
                    FieldPanel("title"),
                    FieldPanel("subtitle"),
                    FieldPanel("cover"),
                    FieldPanel("description"),
                    FieldRowPanel([FieldPanel("on_shelf"), FieldPanel("is_hot")]),
                    FieldPanel("low_stock_threshold"),
                ],
                heading=_("基本信息"),
            ),
            ObjectList(
                [
                    InlinePanel(
                        "skus",
                        heading=_("规格"),
                        label=_("规格"),
                        panels=[
                            FieldPanel("name"),
                            FieldPanel("code"),
                            FieldRowPanel([FieldPanel("price_fen"), FieldPanel("original_price_fen")]),
                            FieldRowPanel([FieldPanel("stock"), FieldPanel("is_active")]),
                        ],
                    ),
                ],
                heading=_("规格与库存"),
            ),
            ObjectList(
                [InlinePanel("images", heading=_("商品图片"), label=_("图片"), panels=[FieldPanel("image")])],
                heading=_("图片"),
            ),
            ObjectList(
                [
                    MultiFieldPanel(
                        [
                            FieldPanel("weight_g"),
                            FieldPanel("origin"),
                            FieldPanel("shelf_life_days"),
                            FieldPanel("shipping_template"),
                        ],
                        heading=_("实物商品"),
                    ),
                    MultiFieldPanel(
                        [FieldPanel("travel_date"), FieldPanel("travel_end_date"), FieldPanel("restrictions")],
                        heading=_("服务商品"),
                    ),
                ],
                heading=_("商品属性"),
            ),
            ObjectList(
                [
                    FieldPanel("is_distributable"),
                    FieldRowPanel([FieldPanel("commission_l1_bps"), FieldPanel("commission_l2_bps")]),
                ],
                heading=_("分销"),
            ),
        ],
        base_form_class=ProductForm,
    )

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), path("batch/", batch_edit, name="batch")]


# -- batch edit --------------------------------------------------------------------------------

SHELF_CHOICES = [("", _("不修改")), ("on", _("上架")), ("off", _("下架"))]


class BatchEditForm(forms.Form):
    products = forms.ModelMultipleChoiceField(
        label=_("商品"),
        queryset=Product.objects.select_related("category").order_by("pk"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一个商品。")},
    )
    price_percent = forms.CharField(
        label=_("价格调整（%）"),
        required=False,
        max_length=12,
        help_text=_("例如 10 为涨价 10%，-5.5 为降价 5.5%；按规格逐个计算，四舍五入到分，最低 0.01 元。"),
    )
    on_shelf = forms.ChoiceField(label=_("上下架"), choices=SHELF_CHOICES, required=False)
    category = forms.ModelChoiceField(
        label=_("移到分类"), queryset=Category.objects.select_related("parent"), required=False
    )


@scope.require_perm("catalog.view_product", BATCH_PERM)
def batch_edit(request):
    if request.method not in ("GET", "POST"):
        return TemplateResponse(request, "catalog/batch_edit.html", {"form": BatchEditForm()}, status=405)
    initial = {"products": [pk for pk in request.GET.getlist("id") if pk.isdigit()]}
    form = BatchEditForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            shelf = {"on": True, "off": False}.get(data["on_shelf"] or "")
            try:
                count = actions.batch_edit_products(
                    product_ids=[p.pk for p in data["products"]],
                    price_percent=data["price_percent"] or None,
                    on_shelf=shelf,
                    category=data["category"],
                    actor=request.user,
                )
            except PermissionDenied:
                raise
            except ValidationError as exc:
                add_action_errors(form, _rename(exc))
            else:
                messages.success(request, gettext("已修改 %(n)s 个商品。") % {"n": count})
                return redirect("products:index")
        status = 400
    return TemplateResponse(
        request,
        "catalog/batch_edit.html",
        {"form": form, "page_title": gettext("批量修改商品"), "index_url": reverse("products:index")},
        status=status,
    )


def _rename(exc: ValidationError) -> ValidationError:
    """The action's ``product_ids`` is the form's ``products``."""
    errors = exc.message_dict
    if "product_ids" in errors:
        errors["products"] = errors.pop("product_ids")
    return ValidationError(errors)


# -- categories --------------------------------------------------------------------------------


class CategoryForm(CatalogForm):
    """The parent can only be a top category (two levels at most)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "parent" in self.fields:
            tops = Category.objects.filter(parent__isnull=True)
            if self.instance.pk:
                tops = tops.exclude(pk=self.instance.pk)
            self.fields["parent"].queryset = tops


class CategoryIndexView(IndexView):
    """The tree: each top category followed by its sub-categories (unless sorted by a column)."""

    def order_queryset(self, queryset):
        if self.request.GET.get("ordering"):
            return super().order_queryset(queryset)
        return queryset.select_related("parent").order_by(
            Coalesce("parent__sort_order", "sort_order"),
            Coalesce("parent_id", "id"),
            F("parent_id").asc(nulls_first=True),
            "sort_order",
            "pk",
        )


class CategoryViewSet(ModelViewSet):
    model = Category
    index_view_class = CategoryIndexView
    delete_view_class = InUseAwareDeleteView
    copy_view_enabled = False
    icon = "folder-open-inverse"
    menu_label = _("分类")
    url_prefix = "catalog/categories"
    list_display = ["tree_label", "parent", "sort_order"]
    edit_handler = ObjectList(
        [FieldPanel("parent"), FieldPanel("name"), FieldPanel("sort_order")], base_form_class=CategoryForm
    )


# -- shipping templates ------------------------------------------------------------------------


class ShippingTemplateViewSet(ModelViewSet):
    model = ShippingTemplate
    delete_view_class = InUseAwareDeleteView
    copy_view_enabled = False
    icon = "site"
    menu_label = _("运费模板")
    url_prefix = "catalog/shipping"
    list_display = [
        "name",
        MoneyColumn("first_fee_fen", label=_("首重运费")),
        MoneyColumn("extra_fee_fen", label=_("续重运费")),
        MoneyColumn("free_over_fen", label=_("满额包邮")),
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("free_over_fen"),
            FieldRowPanel([FieldPanel("first_weight_g"), FieldPanel("first_fee_fen")]),
            FieldRowPanel([FieldPanel("extra_weight_g"), FieldPanel("extra_fee_fen")]),
            InlinePanel(
                "region_rules",
                heading=_("地区运费"),
                label=_("地区"),
                panels=[
                    FieldPanel("provinces"),
                    FieldRowPanel([FieldPanel("first_fee_fen"), FieldPanel("extra_fee_fen")]),
                ],
            ),
        ],
        base_form_class=CatalogForm,
    )


# -- e-contracts -------------------------------------------------------------------------------


class ContractUploadForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(kind=ProductKind.SERVICE)
        self.fields["file"].widget.attrs["accept"] = "application/pdf,.pdf"


class ContractCreateView(CreateView):
    """Uploading is the action ``upload_contract`` (content check, next version number): it runs
    as the last step of validation, so its field errors show on the form like any other."""

    def is_valid(self, form):
        if not super().is_valid(form):
            return False
        try:
            self.object = actions.upload_contract(
                product=form.cleaned_data["product"],
                title=form.cleaned_data["title"],
                upload=form.cleaned_data["file"],
                actor=self.request.user,
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
            self.produced_error_code = "validation_error"
            self.produced_error_message = self.get_error_message()
            return False
        return True

    def form_valid(self, form):
        messages.success(self.request, gettext("已上传合同第 %(v)s 版。") % {"v": self.object.version})
        return redirect(self.index_url_name)


class ContractViewSet(ModelViewSet):
    model = ProductContract
    add_view_class = ContractCreateView
    copy_view_enabled = False
    inspect_view_enabled = True
    icon = "doc-full"
    menu_label = _("电子合同")
    url_prefix = "catalog/contracts"
    list_display = ["product", "title", "version", "created"]
    list_filter = ["product"]
    edit_handler = ObjectList(
        [FieldPanel("product"), FieldPanel("title"), FieldPanel("file")], base_form_class=ContractUploadForm
    )


class CatalogGroup(ModelViewSetGroup):
    menu_label = _("商品管理")
    menu_icon = "tag"
    menu_order = 200
    items = (
        ProductViewSet("products"),
        CategoryViewSet("categories"),
        ShippingTemplateViewSet("shipping_templates"),
        ContractViewSet("product_contracts"),
    )


catalog_group = CatalogGroup()
for vs in catalog_group.registerables:
    scope.merchant_only(vs)


@hooks.register("register_admin_viewset")
def register_catalog():
    return catalog_group
