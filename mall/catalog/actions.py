"""State changes of a store's catalog (tenant schema)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from mall.catalog import storefront_cache
from mall.catalog.models import (
    Category,
    ContractAcceptance,
    Product,
    ProductContract,
    ProductKind,
    ProductSku,
)

CONTRACT_MAX_BYTES = 10 * 1024 * 1024
BATCH_PERCENT_MIN_BPS = -9_999  # −99.99 %
BATCH_PERCENT_MAX_BPS = 100_000  # +1000 %


def create_category(*, name: str, sort_order: int = 0, parent: Category | None = None) -> Category:
    with transaction.atomic():
        category = Category(name=name, sort_order=sort_order, parent=parent)
        category.full_clean()
        category.save()
        storefront_cache.bump()
        return category


def create_product(
    *,
    category: Category | None = None,
    kind: str = ProductKind.PHYSICAL,
    title: str,
    subtitle: str = "",
    price_fen: int | None = None,
    stock: int = 0,
    is_hot: bool = False,
    skus: list[dict] | None = None,
    **attrs,
) -> Product:
    """A product and its SKUs. ``skus``: [{"name", "price_fen", "stock", "code"?, "specs"?}];
    without them the product is sold as one SKU (``price_fen``, ``stock``). Other product
    fields (weight_g, origin, shipping_template, travel_date, commission rates…) go in ``attrs``."""
    if skus is None:
        if isinstance(price_fen, bool) or not isinstance(price_fen, int) or price_fen <= 0:
            raise ValidationError({"price_fen": _("价格必须大于 0。")})
        skus = [{"name": _("默认"), "price_fen": price_fen, "stock": stock}]
    if not skus:
        raise ValidationError({"skus": _("至少需要一个规格。")})
    with transaction.atomic():
        product = Product(
            category=category,
            kind=kind or ProductKind.PHYSICAL,
            title=title,
            subtitle=subtitle,
            price_fen=min(s["price_fen"] for s in skus),
            stock=sum(s.get("stock", 0) for s in skus),
            is_hot=is_hot,
            **attrs,
        )
        product.full_clean(exclude=["cover"])
        product.save()
        for i, data in enumerate(skus):
            sku = ProductSku(product=product, sort_order=i, **data)
            sku.full_clean(exclude=["product"])
            sku.save()
        sync_product(product=product)
        return product


def sync_product(*, product: Product, bump: bool = True) -> Product:
    """Keep the product's derived columns (lowest active price, total stock) in step with its
    SKUs. Called by every action that changes SKUs, and after the console's product form."""
    agg = ProductSku.objects.filter(product=product, is_active=True).aggregate(p=Min("price_fen"), s=Sum("stock"))
    price = (
        agg["p"] or ProductSku.objects.filter(product=product).aggregate(p=Min("price_fen"))["p"] or product.price_fen
    )
    Product.objects.filter(pk=product.pk).update(price_fen=price, stock=agg["s"] or 0)
    product.price_fen, product.stock = price, agg["s"] or 0
    if bump:
        storefront_cache.bump()
    return product


def catalog_changed() -> None:
    """A console screen saved catalog rows (category, shipping template): storefront reads are stale."""
    storefront_cache.bump()


def percent_to_bps(value) -> int:
    """``"-12.5"`` / ``Decimal("10")`` / ``10`` → basis points (exact; at most two decimals)."""
    try:
        number = Decimal(str(value).strip().rstrip("%"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"price_percent": _("请输入百分比，例如 10 或 -5.5。")}) from exc
    bps = number * 100
    if not number.is_finite() or bps != bps.to_integral_value():
        raise ValidationError({"price_percent": _("百分比最多保留两位小数。")})
    bps = int(bps)
    if not BATCH_PERCENT_MIN_BPS <= bps <= BATCH_PERCENT_MAX_BPS:
        raise ValidationError({"price_percent": _("调价幅度须在 -99.99% 到 +1000% 之间。")})
    return bps


def adjust_price(price_fen: int, bps: int) -> int:
    """``price_fen`` changed by ``bps`` basis points, rounded half up to the fen, never below 1 fen.
    Integer math only: (price × (10000 + bps) + 5000) // 10000."""
    return max(1, (price_fen * (10_000 + bps) + 5_000) // 10_000)


def batch_edit_products(
    *,
    product_ids: list[int],
    price_percent=None,
    on_shelf: bool | None = None,
    category: Category | None = None,
    actor,
) -> int:
    """Change many products at once: every SKU's price by ``price_percent`` (± %, exact in fen,
    rounded half up, at least 1 fen), the shelf state, the category. Returns how many products
    changed. Needs ``catalog.batch_edit_product``."""
    if actor is None or not actor.has_perm("catalog.batch_edit_product"):
        raise PermissionDenied(_("没有批量修改商品的权限。"))
    ids = sorted({int(pk) for pk in product_ids or []})
    if not ids:
        raise ValidationError({"product_ids": _("请至少选择一个商品。")})
    bps = percent_to_bps(price_percent) if price_percent not in (None, "") else None
    if bps is None and on_shelf is None and category is None:
        raise ValidationError({"price_percent": _("请至少选择一项要修改的内容。")})
    with transaction.atomic():
        products = list(Product.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        if len(products) != len(ids):
            raise ValidationError({"product_ids": _("部分商品不存在，请刷新后重试。")})
        if bps is not None:
            skus = list(ProductSku.objects.select_for_update().filter(product_id__in=ids).order_by("pk"))
            for sku in skus:
                sku.price_fen = adjust_price(sku.price_fen, bps)
                if sku.original_price_fen:
                    sku.original_price_fen = adjust_price(sku.original_price_fen, bps)
            ProductSku.objects.bulk_update(skus, ["price_fen", "original_price_fen"])
        changes = {}
        if on_shelf is not None:
            changes["on_shelf"] = bool(on_shelf)
        if category is not None:
            changes["category"] = category
        if changes:
            Product.objects.filter(pk__in=ids).update(**changes, updated=timezone.now())
        for product in products:
            sync_product(product=product, bump=False)
        storefront_cache.bump()  # once for the whole batch
    return len(ids)


def _is_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]


def upload_contract(*, product: Product, title: str, upload, actor=None) -> ProductContract:
    """A new version of a service product's e-contract (a PDF, checked by its content, at most
    ``CONTRACT_MAX_BYTES``); ``version`` = the previous version + 1."""
    errors: dict[str, list] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [ValidationError(_("请填写合同名称。"), code="required")]
    if product.kind != ProductKind.SERVICE:
        errors["product"] = [ValidationError(_("只有服务商品需要电子合同。"), code="not_service")]
    data = b""
    if upload is None:
        errors["file"] = [ValidationError(_("请选择合同 PDF 文件。"), code="required")]
    elif upload.size > CONTRACT_MAX_BYTES:
        errors["file"] = [ValidationError(_("文件太大，不能超过 10 MB。"), code="too_large")]
    else:
        upload.seek(0)
        data = upload.read()
        if not _is_pdf(data):
            errors["file"] = [ValidationError(_("只支持 PDF 格式的合同文件。"), code="bad_type")]
    if errors:
        raise ValidationError(errors)
    from django.core.files.base import ContentFile

    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=product.pk).first()  # one upload at a time
        last = ProductContract.objects.filter(product=product).order_by("-version").first()
        contract = ProductContract(product=product, title=title[:80], version=(last.version if last else 0) + 1)
        contract.file.save(f"p{product.pk}-v{contract.version}.pdf", ContentFile(data), save=False)
        contract.save()
        storefront_cache.bump()
    return contract


def accept_contract(
    *, product: Product, customer, version: int, ip: str | None = None
) -> tuple[ContractAcceptance, bool]:
    """The shopper accepts version ``version`` of the product's e-contract (it must be the newest).
    Idempotent: accepting the same version again returns the first acceptance (created=False)."""
    with transaction.atomic():
        newest = ProductContract.objects.filter(product=product).order_by("-version").first()
        if newest is None:
            raise ValidationError({"contract": ValidationError(_("该商品没有电子合同。"), code="no_contract")})
        if version != newest.version:
            raise ValidationError(
                {
                    "contract": ValidationError(
                        _("合同已更新为第 %(v)s 版，请重新阅读后再签署。") % {"v": newest.version}, code="stale"
                    )
                }
            )
        Product.objects.select_for_update().filter(pk=product.pk).first()  # one acceptance per shopper
        found = ContractAcceptance.objects.filter(contract=newest, customer=customer).first()
        if found is not None:
            return found, False
        return ContractAcceptance.objects.create(contract=newest, customer=customer, ip=ip or None), True


def notice_low_stock(*, now: datetime | None = None) -> int:
    """SKUs newly below their product's threshold get one notice each (through the outbox); a SKU
    restocked to the threshold or above is armed again. Returns how many SKUs were noticed."""
    from mall.catalog.selectors import low_stock_skus

    now = now or timezone.now()
    with transaction.atomic():
        ProductSku.objects.filter(
            low_stock_noticed_at__isnull=False, stock__gte=F("product__low_stock_threshold")
        ).update(low_stock_noticed_at=None)
        fresh = list(
            low_stock_skus()
            .filter(low_stock_noticed_at__isnull=True)
            .select_for_update(of=("self",), skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if fresh:
            ProductSku.objects.filter(pk__in=fresh).update(low_stock_noticed_at=now)
            outbox.record("mall.catalog.effects.write_stock_notices", sku_ids=fresh)
    return len(fresh)
