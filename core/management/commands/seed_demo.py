"""Seed the demo platform (idempotent): a staff account, two merchants on different
industries with products, shoppers, promoters (two levels) and orders in several states."""

import json
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from core import crypto
from mall.catalog.models import Category, Product, ProductKind
from mall.customers.models import Customer
from mall.orders.actions import cancel_order, place_order, record_payment, transition_order
from mall.orders.models import Order, OrderStatus
from mall.promoters.actions import make_promoter
from saas_platform.accounts.actions import create_platform_user
from saas_platform.accounts.models import User
from tenants.actions import provision_tenant
from tenants.models import Domain, Tenant


def demo_pdf(title: str) -> bytes:
    """A small, valid one-page PDF standing in for a scanned licence."""
    text = title.encode("ascii", "replace").decode()
    stream = f"BT /F1 18 Tf 72 720 Td (DEMO QUALIFICATION: {text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


STAFF = {"username": "staff", "password": "Fenxiao-Staff-2026", "phone": "13900000000"}

MERCHANTS = [
    {
        "slug": "xianguo",
        "name": "鲜果园生鲜",
        "industry": "fresh",
        "appid": "wxa1b2c3d4e5f60001",
        "phone": "13800138001",
        "password": "Demo-Merchant-01",
        "owner_name": "李春燕",
        "onboarding": {
            "categories": ["food", "retail"],
            "template": "fresh",
            "company": "昆明鲜果园农产品有限公司",
            "credit_code": "91530102MA6NX1234K",
            "address": "云南省昆明市官渡区螺蛳湾国际商贸城 3 栋 12 号",
            "mchid": "1900001001",
            "licence_days": 20,
            "documents": [
                ("business_licence", "approved"),
                ("legal_person_id", "approved"),
                ("icp_filing", "approved"),
                ("food_licence", "approved"),
            ],
        },
        "catalog": {
            "时令水果": [
                ("云南蒙自石榴 5斤装", "籽粒饱满 现摘现发", 5990, 200, True),
                ("海南贵妃芒 3斤", "香甜多汁 产地直发", 3980, 150, True),
                ("丹东99草莓 2斤礼盒", "奶油草莓 冷链到家", 12800, 60, False),
            ],
            "新鲜蔬菜": [
                ("有机小番茄 1kg", "基地直供 无农药残留", 2590, 300, False),
                ("高原娃娃菜 6颗", "清甜脆嫩", 1680, 240, False),
            ],
            "肉禽蛋品": [("农家散养土鸡蛋 30枚", "谷物喂养 蛋黄橙红", 4500, 120, True)],
        },
        "shoppers": [
            ("张晓梅", "13700001001"),
            ("王磊", "13700001002"),
            ("陈静", "13700001003"),
            ("刘洋", "13700001004"),
            ("赵敏", "13700001005"),
        ],
    },
    {
        "slug": "yunyou",
        "name": "云游四方旅行",
        "industry": "travel",
        "appid": "wxa1b2c3d4e5f60002",
        "phone": "13800138002",
        "password": "Demo-Merchant-02",
        "owner_name": "周建国",
        "onboarding": {
            "categories": ["travel"],
            "template": "blank",
            "company": "大理云游四方国际旅行社有限公司",
            "credit_code": "91532901MA6P5678XH",
            "address": "云南省大理白族自治州大理市古城复兴路 88 号",
            "mchid": "1900001002",
            "licence_days": 365,
            "documents": [
                ("business_licence", "approved"),
                ("legal_person_id", "pending"),
                ("icp_filing", "pending"),
                ("travel_licence", "rejected"),
            ],
        },
        "catalog": {
            "周边游": [
                ("大理洱海一日游（含午餐）", "专车接送 小团 12 人", 29800, 80, True),
                ("丽江古城夜游 + 纳西古乐", "古城讲解 门票含", 16800, 100, False),
            ],
            "度假套餐": [
                ("西双版纳 3 天 2 晚亲子游", "雨林探险 野象谷", 259900, 30, True),
                ("香格里拉 4 天 3 晚深度游", "普达措 松赞林寺", 368800, 20, False),
            ],
            "门票卡券": [("石林景区电子门票", "扫码入园 随时可退", 13000, 500, False)],
        },
        "shoppers": [
            ("孙悦", "13700002001"),
            ("黄志强", "13700002002"),
            ("吴倩", "13700002003"),
            ("郑凯", "13700002004"),
        ],
    },
]


class Command(BaseCommand):
    help = "Seed the demo platform (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--summary", help="write the logins and URLs as JSON to this file")

    def handle(self, *args, **options):
        public, _ = Tenant.objects.get_or_create(
            schema_name="public", defaults={"slug": "platform", "name": "分销云平台", "status": "active"}
        )
        Domain.objects.get_or_create(domain=settings.PLATFORM_DOMAIN, defaults={"tenant": public, "is_primary": True})
        staff = User.objects.filter(username=STAFF["username"]).first()
        if staff is None:
            staff = create_platform_user(is_staff=True, first_name="平台运营", **STAFF)
        summary = {"staff": {k: STAFF[k] for k in ("username", "password")}, "merchants": []}
        for spec in MERCHANTS:
            tenant = self._merchant(spec)
            summary["merchants"].append(
                {
                    "slug": tenant.slug,
                    "name": tenant.name,
                    "industry": tenant.get_industry_display(),
                    "appid": tenant.wechat_appid,
                    "phone": spec["phone"],
                    "password": spec["password"],
                }
            )
        if options.get("summary"):
            with open(options["summary"], "w") as fh:
                json.dump(summary, fh, ensure_ascii=False, indent=2)
        self.stdout.write(self.style.SUCCESS(f"demo ready: {len(MERCHANTS)} merchants, staff '{STAFF['username']}'"))

    def _merchant(self, spec) -> Tenant:
        tenant = Tenant.objects.filter(slug=spec["slug"]).first()
        if tenant is None:
            owner = User.objects.filter(phone_index=crypto.blind_index(spec["phone"])).first()
            if owner is None:
                owner = create_platform_user(
                    username=f"m{spec['phone']}",
                    password=spec["password"],
                    phone=spec["phone"],
                    first_name=spec["owner_name"],
                )
            tenant = provision_tenant(
                slug=spec["slug"], name=spec["name"], owner=owner, industry=spec["industry"], wechat_appid=spec["appid"]
            )
        with schema_context(tenant.schema_name):
            if not Product.objects.exists():
                self._store(spec)
        self._onboarding(tenant, spec)
        return tenant

    def _onboarding(self, tenant: Tenant, spec) -> None:
        """Profile, checklist progress and qualifications in several review states."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from saas_platform.onboarding.models import MerchantProfile
        from saas_platform.review.actions import approve_document, reject_document, submit_document
        from saas_platform.review.models import QualificationDocument

        info = spec["onboarding"]
        profile, created = MerchantProfile.objects.get_or_create(
            tenant=tenant,
            defaults={
                "service_categories": info["categories"],
                "template_key": info["template"],
                "template_version": 1,
                "company_name": info["company"],
                "credit_code": info["credit_code"],
                "legal_person": spec["owner_name"],
                "address": info["address"],
                "phone": spec["phone"],
                "wechat_pay_mchid": info["mchid"],
            },
        )
        if QualificationDocument.objects.filter(tenant=tenant).exists():
            return
        staff = User.objects.get(username=STAFF["username"])
        expires = timezone.localdate() + timedelta(days=info["licence_days"])
        for kind, outcome in info["documents"]:
            pdf = demo_pdf(f"{tenant.name} {kind}")
            doc = submit_document(
                tenant=tenant,
                kind=kind,
                upload=SimpleUploadedFile(f"{kind}.pdf", pdf, content_type="application/pdf"),
                number=f"{info['credit_code'][:10]}{len(kind):02d}",
                expires_on=expires if kind.endswith("licence") else None,
            )
            if outcome == "approved":
                approve_document(document=doc, reviewer=staff)
            elif outcome == "rejected":
                reject_document(document=doc, reviewer=staff, reason="许可证照片反光，编号看不清，请重新拍摄上传。")

    @transaction.atomic
    def _store(self, spec) -> None:
        products = []
        for i, (cat_name, items) in enumerate(spec["catalog"].items()):
            cat = Category.objects.create(name=cat_name, sort_order=i)
            for title, subtitle, price, stock, hot in items:
                kind = ProductKind.SERVICE if spec["industry"] == "travel" else ProductKind.PHYSICAL
                products.append(
                    Product.objects.create(
                        category=cat,
                        kind=kind,
                        title=title,
                        subtitle=subtitle,
                        price_fen=price,
                        stock=stock,
                        is_hot=hot,
                    )
                )
        shoppers = [
            Customer.objects.create(openid=f"demo-{spec['slug']}-{n}", nickname=name, phone=phone)
            for n, (name, phone) in enumerate(spec["shoppers"])
        ]
        lead = make_promoter(customer=shoppers[0])
        second = make_promoter(customer=shoppers[1], invited_by=lead)  # level 2 under the lead
        make_promoter(customer=shoppers[2])
        plans = [
            (
                shoppers[3],
                [(products[0].pk, 2), (products[1].pk, 1)],
                lead,
                [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED],
            ),
            (shoppers[4 % len(shoppers)], [(products[2].pk, 1)], second, [OrderStatus.PAID]),
            (shoppers[2], [(products[3].pk, 3)], None, [OrderStatus.PAID, OrderStatus.SHIPPED]),
            (shoppers[3], [(products[4].pk, 1)], lead, []),
            (shoppers[1], [(products[0].pk, 1)], lead, [OrderStatus.CANCELLED]),
        ]
        for n, (customer, items, promoter, steps) in enumerate(plans):
            order: Order = place_order(customer=customer, items=items, promoter=promoter)
            for step in steps:
                if step == OrderStatus.PAID:  # only a recorded payment makes an order paid
                    record_payment(
                        order_no=order.order_no,
                        transaction_id=f"demo-{spec['slug']}-{n}",
                        amount_fen=order.total_fen,
                        paid_at=timezone.now(),
                    )
                elif step == OrderStatus.CANCELLED:
                    cancel_order(order=order, reason="顾客未付款，演示取消")
                else:
                    transition_order(order=order, to=step)
