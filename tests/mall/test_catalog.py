"""Catalog actions: batch edit (exact in fen), category depth, e-contract versions and
acceptance, low-stock notices."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from hypothesis import given
from hypothesis import strategies as st

from mall.catalog import actions
from mall.catalog.models import ContractAcceptance, Product, ProductSku, StockNotice
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Actor:
    """A console user holding exactly ``perms`` (the action checks the permission)."""

    def __init__(self, *perms):
        self.perms = set(perms)

    def has_perm(self, perm):
        return perm in self.perms


BATCHER = Actor("catalog.batch_edit_product")


@given(price=st.integers(min_value=1, max_value=10**9), bps=st.integers(min_value=-9_999, max_value=100_000))
def test_a_price_change_is_rounded_half_up_to_the_fen_and_never_below_one_fen(price, bps):
    from decimal import ROUND_HALF_UP, Decimal

    exact = Decimal(price) * (Decimal(10_000 + bps) / Decimal(10_000))
    expected = max(1, int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    assert actions.adjust_price(price, bps) == expected
    assert isinstance(actions.adjust_price(price, bps), int)


@pytest.mark.parametrize(
    ("price", "percent", "expected"),
    [
        (1000, "10", 1100),
        (999, "-5", 949),  # 949.05 → 949
        (1990, "-12.5", 1741),  # 1741.25 → 1741
        (5, "10", 6),  # 5.5 → 6 (half up)
        (1, "-99.99", 1),  # never below 1 fen
        (3333, "0.01", 3333),  # 3333.3333 → 3333
    ],
)
def test_percent_prices(price, percent, expected):
    assert actions.adjust_price(price, actions.percent_to_bps(percent)) == expected


@pytest.mark.parametrize("bad", ["abc", "10.001", "-100", "1000.01", "nan"])
def test_a_bad_percent_is_a_field_error(bad):
    with pytest.raises(ValidationError) as err:
        actions.percent_to_bps(bad)
    assert "price_percent" in err.value.message_dict


def test_batch_edit_changes_every_sku_price_shelf_and_category(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        target = CategoryFactory()
        a = ProductFactory(
            skus=[{"name": "5斤", "price_fen": 999, "stock": 3}, {"name": "10斤", "price_fen": 1990, "stock": 4}]
        )
        b = ProductFactory(price_fen=5, stock=1)
        untouched = ProductFactory(price_fen=1000)
        n = actions.batch_edit_products(
            product_ids=[a.pk, b.pk], price_percent="-5", on_shelf=False, category=target, actor=BATCHER
        )
        assert n == 2
        assert sorted(ProductSku.objects.filter(product=a).values_list("price_fen", flat=True)) == [949, 1891]
        assert ProductSku.objects.get(product=b).price_fen == 5  # 4.75 → 5
        a.refresh_from_db()
        assert (a.price_fen, a.stock, a.on_shelf, a.category_id) == (949, 7, False, target.pk)
        untouched.refresh_from_db()
        assert untouched.price_fen == 1000 and untouched.on_shelf


def test_batch_edit_needs_the_permission_and_something_to_change(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        p = ProductFactory()
        with pytest.raises(PermissionDenied):
            actions.batch_edit_products(product_ids=[p.pk], on_shelf=False, actor=Actor("catalog.change_product"))
        with pytest.raises(ValidationError) as err:
            actions.batch_edit_products(product_ids=[p.pk], actor=BATCHER)
        assert "price_percent" in err.value.message_dict
        with pytest.raises(ValidationError) as err:
            actions.batch_edit_products(product_ids=[], on_shelf=True, actor=BATCHER)
        assert "product_ids" in err.value.message_dict
        assert Product.objects.get(pk=p.pk).on_shelf


def test_a_third_category_level_is_refused(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        top = actions.create_category(name="水果")
        sub = actions.create_category(name="柑橘", parent=top)
        with pytest.raises(ValidationError) as err:
            actions.create_category(name="砂糖橘", parent=sub)
        assert "最多两级" in err.value.message_dict["parent"][0]


def _pdf(data: bytes = PDF, name: str = "合同.pdf"):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_contract_versions_count_up_and_only_pdfs_of_service_products_are_taken(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        trip = ProductFactory(kind="service")
        first = actions.upload_contract(product=trip, title="出行合同", upload=_pdf())
        second = actions.upload_contract(product=trip, title="出行合同（修订）", upload=_pdf())
        assert (first.version, second.version) == (1, 2)
        assert second.file.name.startswith("contracts/")
        with pytest.raises(ValidationError) as err:
            actions.upload_contract(product=trip, title="假合同", upload=_pdf(b"MZ\x90\x00 not a pdf", "x.pdf"))
        assert "PDF" in err.value.message_dict["file"][0]
        with pytest.raises(ValidationError) as err:
            actions.upload_contract(product=ProductFactory(), title="实物", upload=_pdf())
        assert "product" in err.value.message_dict
        big = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024), content_type="application/pdf")
        with pytest.raises(ValidationError) as err:
            actions.upload_contract(product=trip, title="太大", upload=big)
        assert "10 MB" in err.value.message_dict["file"][0]


def test_accepting_the_newest_contract_is_recorded_once_and_a_stale_version_is_refused(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        trip = ProductFactory(kind="service")
        shopper = CustomerFactory()
        actions.upload_contract(product=trip, title="出行合同", upload=_pdf())
        first, created = actions.accept_contract(product=trip, customer=shopper, version=1, ip="10.0.0.1")
        again, created_again = actions.accept_contract(product=trip, customer=shopper, version=1)
        assert created and not created_again and again.pk == first.pk
        assert first.ip == "10.0.0.1" and first.contract.version == 1
        actions.upload_contract(product=trip, title="出行合同 v2", upload=_pdf())
        with pytest.raises(ValidationError) as err:
            actions.accept_contract(product=trip, customer=shopper, version=1)
        assert "第 2 版" in err.value.message_dict["contract"][0]
        assert ContractAcceptance.objects.filter(customer=shopper).count() == 1


def test_a_sku_below_its_threshold_is_noticed_once_per_crossing(tenant_a, db):
    from core import outbox
    from core.models import OutboxMessage

    with schema_context(tenant_a.schema_name):
        p = ProductFactory(
            low_stock_threshold=5,
            skus=[{"name": "小", "price_fen": 100, "stock": 3}, {"name": "大", "price_fen": 200, "stock": 50}],
        )
        ProductFactory(stock=1, on_shelf=False)  # off the shelf: no notice
        small = p.skus.get(name="小")

        def run():
            count = actions.notice_low_stock()
            for msg in OutboxMessage.objects.filter(
                handler="mall.catalog.effects.write_stock_notices", status="pending"
            ):
                outbox.deliver(msg.pk)
            return count

        assert run() == 1
        assert run() == 0  # still low: noticed already
        notices = list(StockNotice.objects.filter(sku=small))
        assert [(n.stock, n.threshold) for n in notices] == [(3, 5)]
        ProductSku.objects.filter(pk=small.pk).update(stock=8)  # restocked
        assert run() == 0
        small.refresh_from_db()
        assert small.low_stock_noticed_at is None
        ProductSku.objects.filter(pk=small.pk).update(stock=2)  # low again: a new crossing
        assert run() == 1
        assert StockNotice.objects.filter(sku=small).count() == 2


def test_low_stock_products_are_judged_per_sku(tenant_a, db):
    from mall.catalog.selectors import low_stock_products

    with schema_context(tenant_a.schema_name):
        mixed = ProductFactory(
            low_stock_threshold=10,
            skus=[{"name": "A", "price_fen": 100, "stock": 2}, {"name": "B", "price_fen": 100, "stock": 500}],
        )
        fine = ProductFactory(stock=500)
        inactive = ProductFactory(
            skus=[
                {"name": "停售", "price_fen": 100, "stock": 0, "is_active": False},
                {"name": "在售", "price_fen": 100, "stock": 99},
            ]
        )
        low = set(low_stock_products().values_list("pk", flat=True))
        assert mixed.pk in low and fine.pk not in low and inactive.pk not in low
