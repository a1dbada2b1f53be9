"""Order export benchmark: the console's XLSX export of 100k orders, streamed.

    .venv/bin/python -m infra.devstack exec .venv/bin/python bench/export.py [--rows 100000]

On the bench database (bench/_common.py): migrate_all + seed_demo, then bench orders (one line
each, receiver encrypted, a quarter of them paid) are bulk-inserted into the demo store 鲜果园
until it holds ``--rows`` of them (kept between runs). The export itself runs in a fresh
process, the way the console's ``?export=xlsx`` runs it: the listing queryset through
``mall.orders.selectors.export_orders`` (iterator, chunked prefetch of lines), written by
``core.xlsx.xlsx_response`` (write-only workbook → temporary file → ``FileResponse``), and the
response's stream read to the end. Output: ``rows``, ``seconds``, ``peak_rss_mb`` (the export
process's peak resident memory), ``base_rss_mb`` (the same process before the export),
``xlsx_mb``.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

from _common import ROOT, emit, log, setup_django

TENANT_SLUG = "xianguo"
PREFIX = "BX"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(rows: int) -> None:
    from django.core.management import call_command
    from django.db import connections, transaction
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from mall.catalog.models import ProductSku
    from mall.customers.models import Customer
    from mall.orders.models import Order, OrderLine, OrderStatus
    from tenants.models import Tenant

    log("migrate_all + seed_demo on the bench database (first run: a minute or two)…")
    call_command("migrate_all", verbosity=0, stdout=sys.stderr)
    call_command("seed_demo", stdout=sys.stderr)
    tenant = Tenant.objects.get(slug=TENANT_SLUG)
    with schema_context(tenant.schema_name):
        have = Order.objects.filter(order_no__startswith=PREFIX).count()
        if have >= rows:
            log(f"{have} bench orders already there")
            return
        sku = ProductSku.objects.select_related("product").order_by("pk").first()
        customer, _ = Customer.objects.get_or_create(openid="bench-export", defaults={"nickname": "导出压测"})
        now = timezone.now()
        batch = 5000
        log(f"inserting {rows - have} bench orders…")
        for start in range(have, rows, batch):
            n = min(batch, rows - start)
            with transaction.atomic():
                orders = []
                for i in range(start, start + n):
                    paid = i % 4 == 0
                    orders.append(
                        Order(
                            order_no=f"{PREFIX}{i:012d}",
                            customer=customer,
                            status=OrderStatus.PAID if paid else OrderStatus.PENDING_PAYMENT,
                            goods_fen=sku.price_fen,
                            shipping_fen=0,
                            total_fen=sku.price_fen,
                            paid_fen=sku.price_fen if paid else 0,
                            receiver="王小明",
                            receiver_phone="13812345678",
                            receiver_region="浙江省杭州市西湖区",
                            receiver_province="浙江省",
                            receiver_detail="文三路 100 号",
                            paid_at=now if paid else None,
                        )
                    )
                Order.objects.bulk_create(orders)
                OrderLine.objects.bulk_create(
                    OrderLine(
                        order=o,
                        product=sku.product,
                        sku=sku,
                        title=sku.product.title,
                        sku_name=sku.name,
                        unit_price_fen=sku.price_fen,
                        quantity=1,
                        amount_fen=sku.price_fen,
                    )
                    for o in orders
                )
            log(f"  {start + n}/{rows}")
    connections.close_all()


def measure() -> int:
    from django_tenants.utils import schema_context

    from core.xlsx import xlsx_response
    from mall.orders.models import Order
    from mall.orders.selectors import export_orders
    from mall.orders.wagtail_hooks import _order_export_columns
    from tenants.models import Tenant

    tenant = Tenant.objects.get(slug=TENANT_SLUG)
    with schema_context(tenant.schema_name):
        base = _rss_mb()
        counted = []

        def rows(queryset):
            for order in queryset:
                counted.append(1)
                yield order

        started = time.perf_counter()
        queryset = export_orders(Order.objects.filter(order_no__startswith=PREFIX).order_by("-created", "-pk"))
        response = xlsx_response(
            filename="orders", title="订单", columns=_order_export_columns(), rows=rows(queryset.iterator(2000))
        )
        size = sum(len(chunk) for chunk in response.streaming_content)
        response.close()
        seconds = time.perf_counter() - started
    emit("rows", len(counted))
    emit("seconds", seconds)
    emit("peak_rss_mb", _rss_mb())
    emit("base_rss_mb", base)
    emit("xlsx_mb", size / 1024 / 1024)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    setup_django()
    if args.measure:
        return measure()
    prepare(args.rows)
    log("exporting in a fresh process…")
    return subprocess.call([sys.executable, str(ROOT / "bench" / "export.py"), "--measure"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
