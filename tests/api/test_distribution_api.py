"""The distribution API (issue 11 point 7): rules, touches, applying, the promoter centre,
team, commission detail, withdrawals with the fee preview; good and bad input (400 with
field errors in Chinese), another promoter's or store's ids are 404, list endpoints have a
bounded number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from mall.promoters.actions import adjust_commission, make_promoter, update_distribution_settings
from mall.promoters.binding import record_touch
from mall.promoters.models import Binding, DistributionSettings, Promoter, Touch, Withdrawal
from tests.api.test_customers import _fields, _shopper
from tests.factories import CustomerFactory
from tests.mall.distribution.helpers import buy, product, run_commission_outbox


@pytest.fixture
def shopper(tenant_a, db):
    return _shopper(tenant_a)


@pytest.fixture
def promoter(tenant_a, db):
    """A logged-in promoter (under a parent) with ¥500.00 settled."""
    with schema_context(tenant_a.schema_name):
        parent = make_promoter(customer=CustomerFactory(nickname="上级"))
        p = make_promoter(customer=CustomerFactory(nickname="小推"), invited_by=parent)
        adjust_commission(promoter=p, amount_fen=50_000, reason="测试：已结算", actor=None)
    call = _shopper(tenant_a, p.customer)
    call.promoter = p
    return call


def test_rules_show_the_terms_before_joining(shopper, tenant_a):
    with schema_context(tenant_a.schema_name):
        update_distribution_settings(promoter_name="创客", agreement_text="分销协议正文：佣金按实付计算。")
    r = shopper("get", "distribution")
    assert r.status_code == 200
    body = r.json()
    assert body["promoter_name"] == "创客" and body["levels"] == 2
    assert body["level1_rate"] == "10%" and body["level2_rate"] == "3%"
    assert body["agreement_version"] == 2 and body["can_apply"] is True and body["my_status"] is None


def test_apply_needs_the_current_agreement_then_is_active(shopper, tenant_a):
    fields = _fields(shopper("post", "promoter/apply", data={"agreement_version": 99}))
    assert "协议" in fields["agreement_version"][0]
    assert _fields(shopper("post", "promoter/apply", data={}))["agreement_version"]
    r = shopper("post", "promoter/apply", data={"agreement_version": 1})
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "active" and r.json()["invite_code"]
    with schema_context(tenant_a.schema_name):
        p = Promoter.objects.get(customer=shopper.customer)
        assert p.agreement_version == 1 and p.agreement_accepted_at is not None
    again = _fields(shopper("post", "promoter/apply", data={"agreement_version": 1}))
    assert "已经" in again["customer"][0]


def test_apply_with_a_spending_threshold_and_manual_review(shopper, tenant_a):
    with schema_context(tenant_a.schema_name):
        update_distribution_settings(threshold="spent", threshold_spent_fen=10000, auto_approve=False)
    fields = _fields(shopper("post", "promoter/apply", data={"agreement_version": 1}))
    assert "累计消费满 ¥100.00" in fields["customer"][0]
    with schema_context(tenant_a.schema_name):
        buy(shopper.customer, [(product(12000), 1)])
    r = shopper("post", "promoter/apply", data={"agreement_version": 1})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    assert shopper("get", "promoter").status_code == 404  # not a promoter until approved


def test_touch_records_evidence_and_binds(shopper, tenant_a):
    with schema_context(tenant_a.schema_name):
        p = make_promoter(customer=CustomerFactory())
    r = shopper("post", "distribution/touches", data={"source": "qr", "promoter_id": p.pk, "scene": "pid=1",
                                                    "device": "fp-9"}, REMOTE_ADDR="10.9.8.7")  # fmt: skip
    assert r.status_code == 201, r.content
    assert r.json()["bound"] is True and r.json()["bound_promoter_id"] == p.pk
    with schema_context(tenant_a.schema_name):
        t = Touch.objects.get(customer=shopper.customer)
        assert (t.source, t.device, t.ip, t.scene) == ("qr", "fp-9", "10.9.8.7", "pid=1")
        assert Binding.objects.get(customer=shopper.customer).touch_id == t.pk
    r = shopper("post", "distribution/touches", data={"source": "invite_code", "invite_code": p.invite_code.lower()})
    assert r.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "link"}, "promoter_id"),
        ({"source": "payment", "promoter_id": 1}, "source"),
        ({"source": "link", "promoter_id": "x"}, "promoter_id"),
        ({"source": "link", "promoter_id": 99999999}, "promoter"),
        ({"source": "invite_code", "invite_code": "NOPE00"}, "invite_code"),
        ({"source": "link", "promoter_id": 1, "device": "x" * 65}, "device"),
    ],
)
def test_bad_touches_are_field_errors(shopper, body, field):
    assert field in _fields(shopper("post", "distribution/touches", data=body))


def test_centre_shows_balances_team_and_commission_detail(promoter, tenant_a):
    with schema_context(tenant_a.schema_name):
        kid = make_promoter(customer=CustomerFactory(nickname="下级"), invited_by=promoter.promoter)
        make_promoter(customer=CustomerFactory(nickname="下下级"), invited_by=kid)
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=promoter.promoter, source="link")
        buy(shopper, [(product(10000), 2)])
        run_commission_outbox()
    r = promoter("get", "promoter")
    assert r.status_code == 200
    c = r.json()
    assert (c["pending_fen"], c["available_fen"], c["owed_fen"]) == (2000, 50_000, 0)
    assert c["team"] == {"level1": 1, "level2": 1, "total": 2} and c["parent_nickname"] == "上级"
    team = promoter("get", "promoter/team").json()["results"]
    assert [(m["nickname"], m["level"]) for m in team] == [("下级", 1), ("下下级", 2)]
    rows = promoter("get", "promoter/commissions").json()["results"]
    assert [(x["level"], x["rate"], x["base_fen"], x["amount_fen"], x["settled"]) for x in rows] == [
        (1, "10%", 20000, 2000, False)
    ]


def test_not_a_promoter_is_404(shopper):
    for path in ("promoter", "promoter/team", "promoter/commissions", "promoter/withdrawals"):
        assert shopper("get", path).status_code == 404, path


def test_withdrawal_preview_request_and_idempotent_retry(promoter, tenant_a):
    with schema_context(tenant_a.schema_name):
        update_distribution_settings(withdraw_fee_free_under_fen=10000, withdraw_fee_bps=60)
    pv = promoter("post", "promoter/withdrawals/preview", data={"amount_fen": 20000}).json()
    assert (pv["fee_fen"], pv["net_fen"], pv["auto_review"]) == (120, 19880, False)
    first = promoter("post", "promoter/withdrawals", data={"amount_fen": 20000}, HTTP_IDEMPOTENCY_KEY="wd-1")
    assert first.status_code == 201, first.content
    again = promoter("post", "promoter/withdrawals", data={"amount_fen": 20000}, HTTP_IDEMPOTENCY_KEY="wd-1")
    assert again.json()["id"] == first.json()["id"]
    with schema_context(tenant_a.schema_name):
        assert Withdrawal.objects.filter(promoter=promoter.promoter).count() == 1
    hist = promoter("get", "promoter/withdrawals").json()["results"]
    assert [(w["amount_fen"], w["fee_fen"], w["status"]) for w in hist] == [(20000, 120, "reviewing")]
    assert promoter("get", f"promoter/withdrawals/{first.json()['id']}").json()["net_fen"] == 19880


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "amount_fen"), (-5, "amount_fen"), ("1.5", "amount_fen"), (500, "最低提现"), (60_000, "余额不足")],
)
def test_bad_withdrawals_are_field_errors(promoter, amount, text):
    fields = _fields(promoter("post", "promoter/withdrawals", data={"amount_fen": amount}))
    assert "amount_fen" in fields and (text == "amount_fen" or text in fields["amount_fen"][0])


def test_another_promoters_or_stores_withdrawal_is_404(promoter, tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        other = make_promoter(customer=CustomerFactory())
        adjust_commission(promoter=other, amount_fen=5000, reason="测试", actor=None)
        from mall.promoters.withdrawals import request_withdrawal

        w = request_withdrawal(promoter=other, amount_fen=2000)
    assert promoter("get", f"promoter/withdrawals/{w.pk}").status_code == 404
    with schema_context(tenant_b.schema_name):
        b_customer = CustomerFactory()
    # the same promoter id in tenant B's store: not a promoter there
    other_store = _shopper(tenant_b, b_customer)
    assert other_store("get", f"promoter/withdrawals/{w.pk}").status_code == 404
    assert (
        other_store("post", "distribution/touches", data={"source": "link", "promoter_id": other.pk}).status_code == 400
    )


def test_list_endpoints_have_bounded_queries(promoter, tenant_a):
    with schema_context(tenant_a.schema_name):
        for i in range(6):
            kid = make_promoter(customer=CustomerFactory(), invited_by=promoter.promoter)
            make_promoter(customer=CustomerFactory(), invited_by=kid)
            s = CustomerFactory()
            record_touch(customer=s, promoter=promoter.promoter, source="link")
            buy(s, [(product(1000 + i), 1)])
        run_commission_outbox()
        from mall.promoters.withdrawals import request_withdrawal

        for _ in range(3):
            request_withdrawal(promoter=promoter.promoter, amount_fen=1000)
    for path, most in (
        ("promoter/team", 8),
        ("promoter/commissions", 8),
        ("promoter/withdrawals", 8),
        ("promoter", 10),
    ):
        with CaptureQueriesContext(connection) as q:
            r = promoter("get", path)
        assert r.status_code == 200
        assert len(q.captured_queries) <= most, (path, len(q.captured_queries))


def test_rules_refuse_banned_words(tenant_a, db):
    from django.core.exceptions import ValidationError

    with schema_context(tenant_a.schema_name):
        with pytest.raises(ValidationError) as e:
            update_distribution_settings(agreement_text="加入即可躺赚，无限代收益")
        assert "躺赚" in e.value.message_dict["agreement_text"][0]
        assert DistributionSettings.current().agreement_text == ""


def test_share_links_carry_the_promoter_and_product(promoter, tenant_a):
    from tests.factories import ProductFactory

    with schema_context(tenant_a.schema_name):
        p = ProductFactory(title="分享测试脐橙")
    r = promoter("get", f"promoter/share?product_id={p.pk}")
    assert r.status_code == 200, r.content
    body = r.json()
    pid = promoter.promoter.pk
    assert body["path"] == f"pages/product/index?id={p.pk}&pid={pid}"
    assert body["scene"] == f"g={p.pk}&p={pid}" and len(body["scene"]) <= 32  # WeChat's scene limit
    assert body["h5_url"].startswith(tenant_a.absolute_url("/h5/#/pages/product/index?"))
    assert body["title"] == "分享测试脐橙"
    home = promoter("get", "promoter/share").json()
    assert home["path"] == f"pages/index/index?pid={pid}"
    assert _fields(promoter("get", "promoter/share?product_id=abc"))["product_id"]
    assert _fields(promoter("get", "promoter/share?product_id=999999999"))["product_id"]


def test_poster_is_a_png_with_the_product_and_a_code(promoter, tenant_a):
    import io

    from PIL import Image

    from tests.factories import ProductFactory

    with schema_context(tenant_a.schema_name):
        p = ProductFactory(title="海报测试：赣南脐橙 5斤装 现摘现发", price_fen=3990)
    r = promoter("get", f"promoter/poster?product_id={p.pk}")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    img = Image.open(io.BytesIO(r.content))
    assert img.size == (750, 1334)
    # the code in the footer's right corner is dark-on-light (mini-program code or QR), not blank
    corner = img.convert("L").crop((750 - 40 - 230, 1334 - 300 + 35, 750 - 40, 1334 - 300 + 265))
    dark = sum(1 for v in corner.getdata() if v < 100)
    assert dark > 2000
    # the price is drawn in the call-to-action red
    assert any(px[0] > 200 and px[1] < 90 and px[2] < 90 for px in img.convert("RGB").getdata())


def test_share_and_poster_are_for_promoters_only(shopper):
    assert shopper("get", "promoter/share").status_code == 404
    assert shopper("get", "promoter/poster").status_code == 404


def test_estimate_follows_the_rules_precedence_and_the_cap(promoter, tenant_a):
    from mall.catalog.models import ProductSku
    from tests.factories import ProductFactory

    with schema_context(tenant_a.schema_name):
        update_distribution_settings(level1_bps=1000, level2_bps=300, actor=None)
        p = ProductFactory(price_fen=3990)
        ProductSku.objects.create(product=p, name="10斤装", price_fen=7990, stock=5)
        plain = ProductFactory(price_fen=1000, commission_l1_bps=2500)  # the product's rate wins
    body = promoter("get", f"promoter/estimate?product_id={p.pk}").json()
    assert body["distributable"] is True and body["rate_display"] == "10%"
    assert [(r["name"], r["level1_fen"]) for r in body["skus"]] == [("默认", 399), ("10斤装", 799)]
    high = promoter("get", f"promoter/estimate?product_id={plain.pk}").json()
    assert high["rate_display"] == "25%" and high["skus"][0]["level1_fen"] == 250
    assert _fields(promoter("get", "promoter/estimate"))["product_id"]
