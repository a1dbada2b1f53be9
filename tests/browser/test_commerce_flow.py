"""Issue 10's whole path, as people do it, against real processes: a merchant creates a
product with two SKUs in the console (Chromium); a shopper buys one through the public API and
pays with WeChat Pay (the emulator pays and sends the signed notify); the merchant ships it in
the console; the carrier (its emulator) moves the parcel and pushes signed tracking; the
shopper asks for part of the money back; the merchant approves it in the console; WeChat Pay
(the emulator) refunds and notifies; the console shows the refund done.

The stack is this module's own: WeChat emulator, carrier emulator, gunicorn, a Celery worker and
beat, all configured for both emulators (other stacks' workers are paused meanwhile, so no
worker without WeChat's settings takes this test's outbox messages)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
import requests
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tests.browser.test_consoles import OWNER_PASSWORD, OWNER_PHONE, enter_console, platform_login
from tests.conftest import (
    ARTIFACTS,
    ROOT,
    free_port,
    start_processes,
    stop_processes,
    subprocess_env,
    wait_for,
    wait_ready,
)

TITLE = f"端到端·高山蓝莓 {uuid.uuid4().hex[:4]}"


def _emulator(module: str, args: list[str], data_dir, log_dir, name: str):
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        stdout=open(log_dir / f"{name}.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    wait_ready(lambda: (data_dir / "env.json").exists(), what=f"{name} env.json", procs=[proc])
    return proc, json.loads((data_dir / "env.json").read_text())


class Flow:
    def __init__(self, port, wechat_url, carrier_url):
        self.port, self.wechat_url, self.carrier_url = port, wechat_url, carrier_url

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def api(self, method: str, path: str, token: str, body: dict | None = None) -> requests.Response:
        return requests.request(  # *.localhost resolves in browsers only: send the Host header
            method,
            f"http://127.0.0.1:{self.port}/api/v1/{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}", "Host": f"alpha.localhost:{self.port}"},
            timeout=30,
        )

    def wechat(self, name: str, **payload) -> dict:
        r = requests.post(f"{self.wechat_url}/_emulator/api/{name}", json=payload, timeout=30)
        r.raise_for_status()
        return r.json()

    def carrier(self, name: str, **payload) -> dict:
        r = requests.post(f"{self.carrier_url}/_emulator/api/{name}", json=payload, timeout=30)
        r.raise_for_status()
        return r.json()


@pytest.fixture(scope="module")
def flow(tmp_path_factory, tenant_a, django_db_setup):
    port, wx_port, carrier_port = free_port(), free_port(), free_port()
    log_dir = ARTIFACTS / f"commerce-flow-{port}"
    log_dir.mkdir(parents=True, exist_ok=True)
    wx, wx_env = _emulator(
        "tools.wechat_emulator",
        ["--port", str(wx_port), "--callback-base", f"http://localhost:{port}", "--no-persist"]
        + ["--notify-retry-seconds", "0.5,1,2,3"],
        tmp_path_factory.mktemp("flow-wechat"),
        log_dir,
        "wechat",
    )
    carrier, carrier_env = _emulator(
        "tools.carrier_emulator",
        ["--port", str(carrier_port), "--step-seconds", "0", "--retry-seconds", "0.5,1,2"],
        tmp_path_factory.mktemp("flow-carrier"),
        log_dir,
        "carrier",
    )
    env = subprocess_env(
        PUBLIC_PORT=port,
        OUTBOX_RELAY_SECONDS=1,
        **wx_env,
        **carrier_env,
        WECHAT_NOTIFY_BASE_URL=f"http://localhost:{port}",
        LOGISTICS_CALLBACK_BASE_URL=f"http://localhost:{port}",
    )
    procs = start_processes(env, port, log_dir, beat=True)
    try:
        logs = sorted(log_dir.glob("*.log"))
        wait_for(f"http://127.0.0.1:{port}/healthz", "localhost", procs=[*procs, wx, carrier], logs=logs)
        wait_ready(
            lambda: requests.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": "localhost"}, timeout=5).ok,
            what="commerce stack /healthz",
            procs=procs,
            logs=logs,
        )
        yield Flow(port, f"http://127.0.0.1:{wx_port}", f"http://127.0.0.1:{carrier_port}")
    finally:
        stop_processes([*procs, wx, carrier])


@pytest.fixture
def shopper_token(tenant_a, committed):
    from mall.api.auth import issue_token
    from mall.customers.actions import login_shopper

    with schema_context(tenant_a.schema_name):
        return issue_token(login_shopper(openid=f"o-flow-{uuid.uuid4().hex}"))


def test_create_buy_pay_ship_track_refund(flow, page, tenant_a, committed, paused_live_workers, shopper_token):
    # --- the merchant creates a product with two SKUs (console) -------------------------
    platform_login(page, flow, OWNER_PHONE, OWNER_PASSWORD)
    enter_console(page, flow)
    page.goto(flow.url("alpha.localhost", "/console/catalog/products/new/"))
    page.fill("#id_title", TITLE)
    page.get_by_role("tab", name="规格与库存").click()
    for i, (name, price, stock) in enumerate([("125g×2 盒", "39.90", "30"), ("125g×4 盒", "69.90", "12")]):
        page.locator("#id_skus-ADD").click()
        page.fill(f"#id_skus-{i}-name", name)
        page.fill(f"#id_skus-{i}-price_fen", price)
        page.fill(f"#id_skus-{i}-stock", stock)
    page.get_by_role("button", name="创建").click()
    expect(page.locator(".messages")).to_contain_text(TITLE)

    with schema_context(tenant_a.schema_name):
        from mall.catalog.models import Product

        product = Product.objects.get(title=TITLE)
        assert (product.price_fen, product.stock) == (3990, 42)  # lowest price, total stock
        big = product.skus.get(name="125g×4 盒")

    # --- the shopper buys the bigger box through the API and pays with WeChat Pay --------
    address = flow.api(
        "post",
        "addresses",
        shopper_token,
        {
            "receiver": "林小雨",
            "phone": "13812345678",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "文三路 90 号 1 幢 602",
        },
    )
    assert address.status_code == 201, address.text
    order = flow.api("post", "orders", shopper_token, {"items": [{"sku_id": big.pk, "quantity": 1}]})
    assert order.status_code == 201, order.text
    order_no, total = order.json()["order_no"], order.json()["total_fen"]
    assert total == 6990  # no shipping template: free shipping
    pay = flow.api("post", f"orders/{order_no}/pay", shopper_token, {"channel": "miniprogram"})
    assert pay.status_code == 200, pay.text
    assert pay.json()["pay_params"]["package"].startswith("prepay_id=")
    flow.wechat("pay", out_trade_no=f"{tenant_a.pk}_{order_no}")  # the shopper confirms in WeChat
    wait_ready(
        lambda: flow.api("get", f"orders/{order_no}", shopper_token).json()["status"] == "paid",
        what="the pay notify marking the order paid",
    )

    # --- the merchant ships it (console) -----------------------------------------------
    with schema_context(tenant_a.schema_name):
        from mall.orders.models import Order

        order_pk = Order.objects.get(order_no=order_no).pk
    page.goto(flow.url("alpha.localhost", f"/console/orders/ship/{order_pk}/"))
    page.select_option("select[name=carrier]", "zhongtong")
    tracking_no = f"ZT{uuid.uuid4().int % 10**13:013d}"
    page.fill("input[name=tracking_no]", tracking_no)
    page.locator("[data-ship-line] input").first.fill("1")
    page.get_by_role("button", name="确认发货").click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "shipped")

    # --- the carrier moves the parcel; its signed pushes land on the order ---------------
    wait_ready(
        lambda: flow.carrier("advance", carrier="zhongtong", tracking_no=tracking_no, steps=4)["state"] == "delivered",
        what="the carrier emulator to know the subscribed parcel",
    )
    tracking = flow.api("get", f"orders/{order_no}/tracking", shopper_token).json()
    states = [e["state"] for s in tracking["shipments"] for e in s["events"]]
    assert states[-1] == "delivered" and "collected" in states, tracking
    page.reload()
    expect(page.locator("body")).to_contain_text("已签收")

    # --- the shopper asks for part of the money back ------------------------------------
    detail = flow.api("get", f"orders/{order_no}", shopper_token).json()
    line_id = detail["lines"][0]["id"]
    refund = flow.api(
        "post",
        f"orders/{order_no}/refunds",
        shopper_token,
        {"kind": "refund_only", "reason": "有几颗蓝莓压坏了", "lines": [{"line_id": line_id, "amount_fen": 1000}]},
    )
    assert refund.status_code == 201, refund.text
    refund_no = refund.json()["out_refund_no"]

    # --- the merchant approves it (console); WeChat Pay refunds and notifies -------------
    with schema_context(tenant_a.schema_name):
        from mall.payments.models import Refund

        refund_pk = Refund.objects.get(out_refund_no=refund_no).pk
    page.goto(flow.url("alpha.localhost", f"/console/refunds/inspect/{refund_pk}/"))
    page.locator("button[data-action=approve]").click()
    wait_ready(
        lambda: flow.api("get", f"refunds/{refund_no}", shopper_token).json()["status"] == "success",
        what="WeChat Pay's refund notify",
    )
    page.reload()
    expect(page.locator("body")).to_contain_text("已退款")
    with schema_context(tenant_a.schema_name):
        refunded = Refund.objects.get(pk=refund_pk)
        assert refunded.amount_fen == 1000 and refunded.lines.get().amount_fen == 1000
        assert Order.objects.get(pk=order_pk).status == "shipped"  # after-sales keeps the order's place
