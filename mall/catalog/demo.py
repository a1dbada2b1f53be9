"""Demo data of a store's catalog (development only; called by ``tools/demo``): a two-level
category tree, products with SKUs, shipping-fee templates, and e-contracts of service products,
all through the catalog's actions."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.db import transaction

from mall.catalog.actions import create_category, create_product, upload_contract
from mall.catalog.models import Product, ProductKind, ShippingRegionRule, ShippingTemplate


def seed_shipping() -> ShippingTemplate:
    with transaction.atomic():
        template = ShippingTemplate.objects.create(
            name="生鲜冷链（满 99 包邮）",
            free_over_fen=9900,
            first_weight_g=1000,
            first_fee_fen=800,
            extra_weight_g=1000,
            extra_fee_fen=300,
        )
        ShippingRegionRule.objects.create(
            template=template, provinces="新疆、西藏、青海、内蒙古", first_fee_fen=2000, extra_fee_fen=1000
        )
    return template


def minimal_pdf(title: str) -> bytes:
    """A one-page PDF (ASCII text) standing in for a merchant's signed contract scan."""
    text = title.encode("ascii", "replace")
    stream = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def seed_catalog(*, catalog: dict, industry: str) -> list[Product]:
    """``catalog``: {"top category / sub-category": [product spec, …]}; a product spec is
    (title, subtitle, skus, is_hot, extra) with skus [(name, price_fen, stock), …]."""
    kind = ProductKind.SERVICE if industry == "travel" else ProductKind.PHYSICAL
    template = seed_shipping() if kind == ProductKind.PHYSICAL else None
    tops: dict[str, object] = {}
    products = []
    for i, (path, items) in enumerate(catalog.items()):
        top_name, _, sub_name = path.partition(" / ")
        top = tops.get(top_name) or create_category(name=top_name, sort_order=len(tops))
        tops[top_name] = top
        category = create_category(name=sub_name, sort_order=i, parent=top) if sub_name else top
        for title, subtitle, skus, hot, extra in items:
            attrs = dict(extra)
            if kind == ProductKind.PHYSICAL:
                attrs.setdefault("shipping_template", template)
            else:
                start = date.today() + timedelta(days=attrs.pop("in_days", 14))
                attrs.setdefault("travel_date", start)
                attrs.setdefault("travel_end_date", start + timedelta(days=attrs.pop("days", 1) - 1))
            contract_title = attrs.pop("contract", None)
            product = create_product(
                category=category,
                kind=kind,
                title=title,
                subtitle=subtitle,
                is_hot=hot,
                skus=[
                    {"name": name, "price_fen": price, "stock": stock, "code": f"{code}"}
                    for name, price, stock, code in skus
                ],
                **attrs,
            )
            if contract_title:
                upload_contract(
                    product=product,
                    title=contract_title,
                    upload=ContentFile(minimal_pdf(contract_title), name="contract.pdf"),
                )
            products.append(product)
    return products
