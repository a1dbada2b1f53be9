"""Demo shoppers (development only; called by ``tools/demo``)."""

from __future__ import annotations

from mall.customers.actions import register_shopper, save_address
from mall.customers.models import Customer

ADDRESSES = [
    ("浙江省", "杭州市", "西湖区", "文三路 478 号华星时代广场 A 座 1203 室"),
    ("上海市", "上海市", "浦东新区", "张杨路 500 号时代广场 18 楼"),
    ("广东省", "深圳市", "南山区", "科技园南区高新南七道 8 号 3 栋 602"),
    ("北京市", "北京市", "朝阳区", "建国路 88 号 SOHO 现代城 5 号楼 1801"),
    ("四川省", "成都市", "武侯区", "天府大道北段 1700 号环球中心 W6 区 902"),
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "解放北路 166 号 2 单元 301"),
]


def seed_shoppers(*, slug: str, shoppers: list[tuple[str, str]]) -> list[Customer]:
    customers = []
    for n, (name, phone) in enumerate(shoppers):
        customer = register_shopper(openid=f"demo-{slug}-{n}", nickname=name, phone=phone)
        if not customer.addresses.exists():
            province, city, district, detail = ADDRESSES[n % len(ADDRESSES)]
            save_address(
                customer=customer,
                receiver=name[:20],
                phone=phone,
                province=province,
                city=city,
                district=district,
                detail=detail,
            )
        customers.append(customer)
    return customers


def seed_tags(*, shoppers: list[Customer]) -> None:
    """A manual "VIP" tag on the first shopper and the "frequent buyer" rule tag (N = 2),
    computed from the seeded orders (the beat task keeps it current afterwards)."""
    from mall.customers.actions import recompute_rule_tags, tag_customer
    from mall.customers.models import CustomerTag, TagRule

    vip, _ = CustomerTag.objects.get_or_create(name="VIP")
    CustomerTag.objects.get_or_create(name="常购客", defaults={"rule": TagRule.FREQUENT_BUYER, "rule_value": 2})
    CustomerTag.objects.get_or_create(name="待回访")
    if shoppers:
        tag_customer(customer=shoppers[0], tag=vip)
    recompute_rule_tags()
