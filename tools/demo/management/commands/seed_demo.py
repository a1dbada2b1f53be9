"""Seed the demo platform (idempotent): a staff account, two merchants on different
industries with products, shoppers, promoters (two levels) and orders in several states. Each
part comes from its app's ``demo.py``, which calls that app's actions."""

import json

from django.core.management.base import BaseCommand
from django.db import transaction
from django_tenants.utils import schema_context

from mall.catalog.demo import seed_catalog
from mall.catalog.models import Product
from mall.customers.demo import seed_shoppers, seed_tags
from mall.orders.demo import seed_orders
from mall.promoters.demo import seed_bindings, seed_distribution_rules, seed_ledger, seed_promoters
from saas_platform.accounts.demo import ensure_merchant_owner, ensure_staff
from saas_platform.onboarding.demo import ensure_profile
from saas_platform.review.demo import seed_documents
from tenants.demo import ensure_platform, ensure_store
from tenants.models import Tenant

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
            "credit_code": "91530102MA6NX12347",
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
            "时令水果 / 热带水果": [
                (
                    "海南贵妃芒",
                    "香甜多汁 产地直发",
                    [("3斤装", 3980, 150, "XG-MG-3"), ("5斤装", 5980, 80, "XG-MG-5")],
                    True,
                    {"weight_g": 1600, "origin": "海南三亚", "shelf_life_days": 7},
                ),
            ],
            "时令水果 / 国产水果": [
                (
                    "云南蒙自石榴",
                    "籽粒饱满 现摘现发",
                    [("5斤装", 5990, 200, "XG-SL-5"), ("10斤装", 9990, 6, "XG-SL-10")],
                    True,
                    {"weight_g": 2600, "origin": "云南蒙自", "shelf_life_days": 20, "commission_l1_bps": 1200},
                ),
                (
                    "丹东99草莓 2斤礼盒",
                    "奶油草莓 冷链到家",
                    [("2斤礼盒", 12800, 60, "XG-CM-2")],
                    False,
                    {"weight_g": 1200, "origin": "辽宁丹东", "shelf_life_days": 3},
                ),
            ],
            "新鲜蔬菜": [
                (
                    "有机小番茄",
                    "基地直供 无农药残留",
                    [("1kg", 2590, 300, "XG-FQ-1"), ("2kg", 4690, 120, "XG-FQ-2")],
                    False,
                    {"weight_g": 1100, "origin": "云南元谋", "shelf_life_days": 10},
                ),
                (
                    "高原娃娃菜 6颗",
                    "清甜脆嫩",
                    [("6颗装", 1680, 240, "XG-WW-6")],
                    False,
                    {"weight_g": 1500, "origin": "云南曲靖", "shelf_life_days": 7},
                ),
            ],
            "肉禽蛋品": [
                (
                    "农家散养土鸡蛋",
                    "谷物喂养 蛋黄橙红",
                    [("30枚", 4500, 120, "XG-JD-30"), ("60枚", 8500, 40, "XG-JD-60")],
                    True,
                    {"weight_g": 1800, "origin": "云南楚雄", "shelf_life_days": 30},
                ),
            ],
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
            "credit_code": "91532901MA6P5678XN",
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
            "周边游 / 一日游": [
                (
                    "大理洱海一日游（含午餐）",
                    "专车接送 小团 12 人",
                    [
                        ("成人票", 29800, 80, "YY-EH-A"),
                        ("儿童票（1.2 米以下）", 19800, 40, "YY-EH-C"),
                        ("长者票（65 岁以上）", 23800, 20, "YY-EH-S"),
                    ],
                    True,
                    {
                        "in_days": 7,
                        "restrictions": "孕妇及心脏病患者不宜参加；请携带身份证原件。",
                        "contract": "Erhai Day Tour Contract",
                        "commission_l1_bps": 1500,
                        "commission_l2_bps": 400,
                    },
                ),
                (
                    "丽江古城夜游 + 纳西古乐",
                    "古城讲解 门票含",
                    [("成人票", 16800, 100, "YY-LJ-A"), ("儿童票", 9800, 50, "YY-LJ-C")],
                    False,
                    {"in_days": 10, "restrictions": "夜间活动，未成年人须由成人陪同。"},
                ),
            ],
            "度假套餐": [
                (
                    "西双版纳 3 天 2 晚亲子游",
                    "雨林探险 野象谷",
                    [("一大一小", 259900, 30, "YY-BN-11"), ("两大一小", 359900, 20, "YY-BN-21")],
                    True,
                    {
                        "in_days": 21,
                        "days": 3,
                        "restrictions": "儿童须 3 周岁以上。",
                        "contract": "Xishuangbanna Family Tour Contract",
                    },
                ),
                (
                    "香格里拉 4 天 3 晚深度游",
                    "普达措 松赞林寺",
                    [("成人", 368800, 20, "YY-XG-A")],
                    False,
                    {"in_days": 30, "days": 4, "restrictions": "高海拔行程，请提前评估身体状况。"},
                ),
            ],
            "门票卡券": [
                ("石林景区电子门票", "扫码入园 随时可退", [("成人票", 13000, 500, "YY-SL-A")], False, {"in_days": 1}),
            ],
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
        ensure_platform()
        staff = ensure_staff(**STAFF)
        summary = {"staff": {k: STAFF[k] for k in ("username", "password")}, "merchants": []}
        for spec in MERCHANTS:
            tenant = self._merchant(spec, staff)
            summary["merchants"].append(
                {
                    "slug": tenant.slug,
                    "name": tenant.name,
                    "industry": tenant.get_industry_display(),
                    "appid": tenant.wechat_appid,
                    "phone": spec["phone"],
                    "password": spec["password"],
                    # the first shopper leads the promoters (mall/promoters/demo.py): an H5 login
                    # with this phone is that promoter
                    "promoter_phone": spec["shoppers"][0][1] if spec.get("shoppers") else "",
                }
            )
        if options.get("summary"):
            with open(options["summary"], "w") as fh:
                json.dump(summary, fh, ensure_ascii=False, indent=2)
        self.stdout.write(self.style.SUCCESS(f"demo ready: {len(MERCHANTS)} merchants, staff '{STAFF['username']}'"))

    def _merchant(self, spec, staff) -> Tenant:
        owner = ensure_merchant_owner(phone=spec["phone"], password=spec["password"], name=spec["owner_name"])
        tenant, _created = ensure_store(
            slug=spec["slug"], name=spec["name"], owner=owner, industry=spec["industry"], appid=spec["appid"]
        )
        with schema_context(tenant.schema_name):
            if not Product.objects.exists():
                self._store(spec)
        info = spec["onboarding"]
        ensure_profile(tenant=tenant, info=info, owner_name=spec["owner_name"], phone=spec["phone"])
        seed_documents(
            tenant=tenant,
            documents=info["documents"],
            credit_code=info["credit_code"],
            licence_days=info["licence_days"],
            reviewer=staff,
        )
        return tenant

    @transaction.atomic
    def _store(self, spec) -> None:
        products = seed_catalog(catalog=spec["catalog"], industry=spec["industry"])
        shoppers = seed_shoppers(slug=spec["slug"], shoppers=spec["shoppers"])
        seed_distribution_rules(industry=spec["industry"])
        lead, second = seed_promoters(shoppers=shoppers)
        seed_bindings(shoppers=shoppers, lead=lead, second=second)
        seed_orders(products=products, shoppers=shoppers, lead=lead, second=second, industry=spec["industry"])
        seed_ledger(shoppers=shoppers, lead=lead, second=second, industry=spec["industry"])
        seed_tags(shoppers=shoppers)
