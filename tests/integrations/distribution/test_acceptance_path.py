"""The plan's acceptance path (SPEC §5; issue 11 point 9) as one run through the public API,
real processes (gunicorn, a Celery worker and beat) and both emulators (WeChat, carrier):

a promoter registers under an inviter → a shopper comes through the promoter's link → orders
products of two categories (different rates) and pays with WeChat Pay → two-level commission
appears, pending → the parcels are tracked and delivered, the shopper confirms → the beat
settles (T+0 here) → the promoter withdraws everything through WeChat 商家转账, confirms in
WeChat, the transfer notify pays it → the shopper gets one line refunded after settlement →
the claw-back debits the promoter below zero (owes) → ``reconcile_commissions`` is clean."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from tests.browser.test_commerce_flow import Flow, _emulator
from tests.conftest import ARTIFACTS, free_port, start_processes, stop_processes, subprocess_env, wait_for, wait_ready


@pytest.fixture(scope="module")
def flow(tmp_path_factory, tenant_a, django_db_setup):
    port, wx_port, carrier_port = free_port(), free_port(), free_port()
    log_dir = ARTIFACTS / f"distribution-path-{port}"
    log_dir.mkdir(parents=True, exist_ok=True)
    wx, wx_env = _emulator(
        "tools.wechat_emulator",
        ["--port", str(wx_port), "--callback-base", f"http://localhost:{port}", "--no-persist",
         "--notify-retry-seconds", "0.5,1,2,3"],
        tmp_path_factory.mktemp("dist-wechat"), log_dir, "wechat",
    )  # fmt: skip
    carrier, carrier_env = _emulator(
        "tools.carrier_emulator",
        ["--port", str(carrier_port), "--step-seconds", "0", "--retry-seconds", "0.5,1,2"],
        tmp_path_factory.mktemp("dist-carrier"), log_dir, "carrier",
    )  # fmt: skip
    env = subprocess_env(
        PUBLIC_PORT=port,
        OUTBOX_RELAY_SECONDS=1,
        DISTRIBUTION_BEAT_SECONDS=2,
        **wx_env,
        **carrier_env,
        WECHAT_NOTIFY_BASE_URL=f"http://localhost:{port}",
        LOGISTICS_CALLBACK_BASE_URL=f"http://localhost:{port}",
    )
    procs = start_processes(env, port, log_dir, beat=True)
    try:
        logs = sorted(log_dir.glob("*.log"))
        wait_for(f"http://127.0.0.1:{port}/healthz", "localhost", procs=[*procs, wx, carrier], logs=logs)
        yield Flow(port, f"http://127.0.0.1:{wx_port}", f"http://127.0.0.1:{carrier_port}")
    finally:
        stop_processes([*procs, wx, carrier])


def _login(tenant, nickname):
    from mall.api.auth import issue_token
    from mall.customers.actions import login_shopper

    with schema_context(tenant.schema_name):
        c = login_shopper(openid=f"o-dist-{uuid.uuid4().hex}")
        c.nickname = nickname
        c.save(update_fields=["nickname"])
        return c, issue_token(c)


def test_register_buy_commission_settle_withdraw_refund_clawback(flow, tenant_a, committed, paused_live_workers):
    from mall.catalog.actions import create_category, create_product
    from mall.orders.models import Order
    from mall.orders.shipping import ship_order
    from mall.payments.actions import approve_refund
    from mall.payments.models import Refund
    from mall.promoters.actions import update_distribution_settings
    from mall.promoters.models import Promoter

    with schema_context(tenant_a.schema_name):
        update_distribution_settings(
            enabled=True, levels=2, level1_bps=1000, level2_bps=300, settle_days=0, binding_rule="first_click",
            self_purchase="rebate_on", withdraw_min_fen=100, withdraw_fee_bps=0, withdraw_auto_review_under_fen=10**7,
            withdraw_daily_fen=10**7,
        )  # fmt: skip
        fruit = create_category(name=f"验收水果{uuid.uuid4().hex[:4]}")
        fruit.commission_l1_bps = 1200
        fruit.save()
        tea = create_category(name=f"验收茶叶{uuid.uuid4().hex[:4]}")
        berries = create_product(category=fruit, title="验收蓝莓", price_fen=6990, stock=50, weight_g=500)
        oolong = create_product(category=tea, title="验收乌龙", price_fen=12800, stock=50, weight_g=300)

    # --- an inviter and a promoter register (U5) -------------------------------------------
    _, inviter_token = _login(tenant_a, "验收上级")
    rules = flow.api("get", "distribution", inviter_token).json()
    r = flow.api("post", "promoter/apply", inviter_token, {"agreement_version": rules["agreement_version"]})
    assert r.status_code == 201, r.text
    invite_code = r.json()["invite_code"]
    promoter_customer, promoter_token = _login(tenant_a, "验收推广员")
    r = flow.api("post", "promoter/apply", promoter_token,
                 {"agreement_version": rules["agreement_version"], "invite_code": invite_code})  # fmt: skip
    assert r.status_code == 201 and r.json()["parent_nickname"] == "验收上级", r.text
    promoter_id = r.json()["id"]

    # --- a shopper comes through the promoter's link and buys two categories -----------------
    shopper, shopper_token = _login(tenant_a, "验收顾客")
    r = flow.api("post", "distribution/touches", shopper_token, {"source": "link", "promoter_id": promoter_id})
    assert r.json()["bound"] is True, r.text
    flow.api("post", "addresses", shopper_token, {"receiver": "验收", "phone": "13812345678", "province": "浙江省",
             "city": "杭州市", "district": "西湖区", "detail": "文三路 90 号"})  # fmt: skip
    order = flow.api("post", "orders", shopper_token,
                     {"items": [{"product_id": berries.pk, "quantity": 2}, {"product_id": oolong.pk, "quantity": 1}]})  # fmt: skip
    assert order.status_code == 201, order.text
    order_no = order.json()["order_no"]
    assert flow.api("post", f"orders/{order_no}/pay", shopper_token, {"channel": "miniprogram"}).status_code == 200
    flow.wechat("pay", out_trade_no=f"{tenant_a.pk}_{order_no}")
    # berries 139.80 × 12 % = 16.77; oolong 128.00 × 10 % = 12.80 → 29.57 pending
    centre = wait_ready(
        lambda: (c := flow.api("get", "promoter", promoter_token).json())["pending_fen"] == 2957 and c,
        what="commission at payment (the worker runs the order_paid hook)",
    )
    assert centre["available_fen"] == 0
    details = {(x["title"], x["level"]): x["amount_fen"] for x in flow.api("get", "promoter/commissions",
                                                                           promoter_token).json()["results"]}  # fmt: skip
    assert details == {("验收蓝莓", 1): 1677, ("验收乌龙", 1): 1280}
    inviter = flow.api("get", "promoter", inviter_token).json()
    assert inviter["pending_fen"] == 419 + 384  # level 2: 3 % of 139.80 and of 128.00

    # --- shipped, tracked, delivered, confirmed; the beat settles (T+0) ---------------------
    with schema_context(tenant_a.schema_name):
        o = Order.objects.get(order_no=order_no)
        tracking_no = f"ZT{uuid.uuid4().int % 10**13:013d}"
        ship_order(order=o, parcels=[{"carrier": "zhongtong", "tracking_no": tracking_no,
                                      "lines": [(line.pk, line.quantity) for line in o.lines.all()]}])  # fmt: skip
    wait_ready(
        lambda: flow.carrier("advance", carrier="zhongtong", tracking_no=tracking_no, steps=4)["state"] == "delivered",
        what="the carrier emulator to deliver the parcel",
    )
    wait_ready(lambda: flow.api("get", f"orders/{order_no}/tracking", shopper_token).json()["shipments"][0]["events"],
               what="tracking pushed")  # fmt: skip
    r = flow.api("post", f"orders/{order_no}/confirm-receipt", shopper_token)
    assert r.status_code == 200 and r.json()["status"] == "completed", r.text
    centre = wait_ready(
        lambda: (c := flow.api("get", "promoter", promoter_token).json())["available_fen"] == 2957 and c,
        what="the distribution beat settling T+0",
        timeout=60,
    )
    assert centre["pending_fen"] == 0

    # --- the promoter withdraws everything; confirms in WeChat; the notify pays it ----------
    pv = flow.api("post", "promoter/withdrawals/preview", promoter_token, {"amount_fen": 2957}).json()
    assert (pv["fee_fen"], pv["net_fen"]) == (0, 2957)
    w = flow.api("post", "promoter/withdrawals", promoter_token, {"amount_fen": 2957})
    assert w.status_code == 201, w.text
    wid = w.json()["id"]
    waiting = wait_ready(
        lambda: (
            (d := flow.api("get", f"promoter/withdrawals/{wid}", promoter_token).json())["status"] == "wait_user" and d
        ),
        what="the transfer bill (WAIT_USER_CONFIRM) made by the worker",
    )
    assert waiting["package_info"]  # what wx.requestMerchantTransfer needs
    with schema_context(tenant_a.schema_name):
        from mall.promoters.models import Withdrawal

        bill_no = Withdrawal.objects.get(pk=wid).out_bill_no
    assert "_" not in bill_no
    flow.wechat("transfer", out_bill_no=bill_no, action="confirm")  # the promoter confirms in WeChat
    flow.wechat("transfer", out_bill_no=bill_no, action="succeed")
    wait_ready(
        lambda: flow.api("get", f"promoter/withdrawals/{wid}", promoter_token).json()["status"] == "success",
        what="the transfer notify",
    )
    centre = flow.api("get", "promoter", promoter_token).json()
    assert (centre["available_fen"], centre["withdrawn_fen"], centre["inflight_fen"]) == (0, 2957, 0)

    # --- a refund after settlement and withdrawal: the claw-back makes the promoter owe -----
    detail = flow.api("get", f"orders/{order_no}", shopper_token).json()
    berry_line = next(x for x in detail["lines"] if x["title"] == "验收蓝莓")
    r = flow.api("post", f"orders/{order_no}/refunds", shopper_token,
                 {"kind": "refund_only", "reason": "一盒坏了", "lines": [{"line_id": berry_line["id"], "amount_fen": 6990}]})  # fmt: skip
    assert r.status_code == 201, r.text
    refund_no = r.json()["out_refund_no"]
    with schema_context(tenant_a.schema_name):
        approve_refund(refund=Refund.objects.get(out_refund_no=refund_no), actor=None)
    wait_ready(lambda: flow.api("get", f"refunds/{refund_no}", shopper_token).json()["status"] == "success",
               what="WeChat Pay's refund notify")  # fmt: skip
    # berries now 69.90 net: 12 % = 8.38 (was 16.77): −8.39 from a zero balance
    centre = wait_ready(
        lambda: (c := flow.api("get", "promoter", promoter_token).json())["owed_fen"] == 839 and c,
        what="the claw-back",
    )
    assert centre["available_fen"] == -839 and centre["withdrawn_fen"] == 2957
    with schema_context(tenant_a.schema_name):
        assert Promoter.objects.get(pk=promoter_id).available_fen == -839
    call_command("reconcile_commissions", schema=tenant_a.schema_name)  # raises on any drift
