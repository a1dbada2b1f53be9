"""The distribution console the store owner uses, in Chromium (zh-CN, 1440 × 900), against the
live stack, with the docs' screenshots:

* 分销设置: a level-1 rate out of range (16 %) is refused in Chinese and nothing is saved; 12 %
  is saved (distribution-settings.png);
* 推广员: the list with balances (promoter-list.png); a pending application approved from its
  detail page; a promoter frozen with a reason and unfrozen (promoter-detail.png);
* 佣金明细: the entries with their order number; the "导出 Excel" download has one row per
  entry (commission-ledger.png);
* 提现: a request over the automatic-review amount approved on its detail page;
* a shopper's distribution: the promoter holding it and the touch's device and IP
  (shopper-distribution.png).

The data is made through the actions (committed: the server must see it); every click is
checked against the database rows it should have changed."""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tests.browser.test_consoles import enter_console, platform_login

DESKTOP = {"width": 1440, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The store's rules this test starts from (and puts back afterwards): the applicant must wait
# for review, a first link click binds, two levels.
BASELINE = {"enabled": True, "levels": 2, "level1_bps": 1000, "binding_rule": "first_click", "auto_approve": False}
WITHDRAW_FEN = 30_000  # over the default automatic-review amount (¥200): waits for the merchant
COMMISSION_WAIT_S = 60


def _deliver_commission(order) -> None:
    """Sync the paid order's commission. The live stack's worker delivers the outbox message on
    its own; delivering it here too is safe (``outbox.deliver`` claims the row and skips a done
    message), and does not depend on the worker being up or idle."""
    from core import outbox
    from core.models import OutboxMessage, OutboxStatus
    from mall.promoters.models import CommissionEntry

    deadline = time.monotonic() + COMMISSION_WAIT_S
    while not CommissionEntry.objects.filter(order=order, kind="accrued").exists():
        for pk in OutboxMessage.objects.filter(
            handler="mall.promoters.commission.commission_paid_order",
            payload__order_id=order.pk,
            status=OutboxStatus.PENDING,
        ).values_list("pk", flat=True):
            outbox.deliver(pk)
        if time.monotonic() > deadline:
            raise AssertionError(f"no commission was written for order {order.order_no}")
        time.sleep(0.5)


@pytest.fixture
def distribution(live_stack, tenant_a, committed):
    """A promoter 甲 (a ¥1,000 opening bonus, ¥300 of it asked for: under review) with 乙 below
    it; a shopper bound to 乙 by a link click (device and IP recorded) who paid a ¥100 order
    (commission synced: 乙 level 1, 甲 level 2); 丙 applied and waits for review."""
    from mall.catalog.actions import create_product
    from mall.customers.models import Customer
    from mall.promoters import actions
    from mall.promoters.binding import record_touch
    from mall.promoters.models import DistributionSettings
    from mall.promoters.withdrawals import request_withdrawal
    from tests.mall.distribution.helpers import buy

    tag = uuid.uuid4().hex[:4]  # the session's store is shared: names unique to this run

    def customer(nickname: str, phone: str = "") -> Customer:
        return Customer.objects.create(openid=f"b-dist-{uuid.uuid4().hex}", nickname=f"{nickname}{tag}", phone=phone)

    with schema_context(tenant_a.schema_name):
        ds = DistributionSettings.current()
        original = {k: getattr(ds, k) for k in BASELINE}
        ds = actions.update_distribution_settings(**BASELINE)
        grand = actions.make_promoter(customer=customer("甲推广", "13712340001"))
        parent = actions.make_promoter(customer=customer("乙推广", "13712340002"), invited_by=grand)
        shopper = customer("丁顾客", "13712340004")
        device = f"dev-browser-{tag}"
        touch, binding = record_touch(customer=shopper, promoter=parent, source="link", device=device, ip="10.0.0.8")
        assert binding is not None and binding.promoter_id == parent.pk
        product = create_product(title=f"分销测试·赣南脐橙 {tag}", price_fen=10_000, stock=50)
        order = buy(shopper, [(product, 1)])
        assert order.promoter_id == parent.pk
        _deliver_commission(order)
        actions.adjust_commission(promoter=grand, amount_fen=100_000, reason="开业奖励", actor=None)
        withdrawal = request_withdrawal(promoter=grand, amount_fen=WITHDRAW_FEN)
        assert withdrawal.status == "reviewing"
        applicant = actions.apply(customer=customer("丙申请", "13712340003"), agreement_version=ds.agreement_version)
        assert applicant.status == "pending"
    yield {
        "tag": tag,
        "grand": grand,
        "parent": parent,
        "applicant": applicant,
        "shopper": shopper,
        "device": device,
        "order": order,
        "withdrawal": withdrawal,
    }
    with schema_context(tenant_a.schema_name):
        actions.update_distribution_settings(**original)


def _settle(page) -> None:
    """The page is drawn: no request in flight, web fonts loaded, Wagtail's sidebar rendered."""
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")
    expect(page.get_by_role("navigation", name="主菜单")).to_be_visible()


# Wagtail's admin scrolls its content pane, not the document: ``full_page`` would stop at the
# viewport. The docs' pictures are 1440 px wide and as tall as the content (900 px at least).
CONTENT_HEIGHT_JS = """() => Math.max(document.documentElement.scrollHeight,
    ...[...document.querySelectorAll('*')].filter(e => /(auto|scroll)/.test(getComputedStyle(e).overflowY))
        .map(e => e.scrollHeight + e.getBoundingClientRect().top))"""
MAX_SHOT_HEIGHT = 4000


def _shot(page, name: str) -> None:
    _settle(page)
    height = min(max(DESKTOP["height"], int(page.evaluate(CONTENT_HEIGHT_JS))), MAX_SHOT_HEIGHT)
    page.set_viewport_size({"width": DESKTOP["width"], "height": height})
    try:
        _settle(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name))
    finally:
        page.set_viewport_size(DESKTOP)


def _flash(page, text: str) -> None:
    """The success message after an action. ``.first``: these screens show each message twice,
    in Wagtail's message bar and again in the page's own list (``promoters/_style.html``)."""
    expect(page.get_by_text(text, exact=True).first).to_be_visible()


def _db(tenant, fn):
    with schema_context(tenant.schema_name):
        return fn()


def test_owner_runs_distribution_from_the_console(live_stack, tenant_a, distribution, page):
    from openpyxl import load_workbook

    from core.money import format_yuan
    from mall.promoters.models import (
        CommissionEntry,
        DistributionLog,
        DistributionSettings,
        Promoter,
        Withdrawal,
        WithdrawalStatus,
    )
    from mall.promoters.withdrawals import WITHDRAWAL_FSM

    d = distribution
    url = lambda path: live_stack.url("alpha.localhost", path)  # noqa: E731
    promoter = lambda p: _db(tenant_a, lambda: Promoter.objects.get(pk=p.pk))  # noqa: E731

    page.set_viewport_size(DESKTOP)
    platform_login(page, live_stack)
    enter_console(page, live_stack)

    # --- 分销设置: 16 % is refused (in Chinese, on the field), nothing saved; 12 % is saved --------
    page.goto(url("/console/distribution-settings/"))
    form = page.locator('[data-page="distribution-settings"] form')
    rate = form.locator("#id_level1_bps")
    expect(rate).to_have_value("10%")
    rate.fill("16%")
    with page.expect_response(lambda r: r.request.method == "POST" and "/distribution-settings/" in r.url) as posted:
        form.locator('button[type="submit"]').click()
    assert posted.value.status == 400
    expect(form.locator('[data-field-error="level1_bps"]')).to_have_text("一级佣金比例须在 8%–15% 之间。")
    assert _db(tenant_a, lambda: DistributionSettings.current().level1_bps) == 1000
    page.goto(url("/console/distribution-settings/"))
    expect(rate).to_have_value("10%")
    rate.fill("12%")
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    _flash(page, "分销设置已保存。")
    expect(rate).to_have_value("12%")
    assert _db(tenant_a, lambda: DistributionSettings.current().level1_bps) == 1200
    page.goto(url("/console/distribution-settings/"))  # the docs' picture without the flash message
    expect(rate).to_have_value("12%")
    _shot(page, "distribution-settings.png")

    # --- 推广员: the list, with 甲's balances ----------------------------------------------------------
    grand = promoter(d["grand"])
    assert (grand.available_fen, grand.inflight_fen) == (100_000 - WITHDRAW_FEN, WITHDRAW_FEN)
    assert grand.pending_fen > 0  # its level-2 commission on the shopper's order
    page.goto(url("/console/promoters/"))
    row = page.locator("table.listing tbody tr", has_text=grand.invite_code)  # 乙's row names 甲 too
    expect(row).to_have_count(1)
    for text in (f"甲推广{d['tag']}", "137****0001", "正常", format_yuan(grand.pending_fen), "¥700.00"):
        expect(row).to_contain_text(text)
    parent_row = page.locator("table.listing tbody tr", has_text=d["parent"].invite_code)
    expect(parent_row).to_contain_text(format_yuan(promoter(d["parent"]).pending_fen))
    expect(parent_row).to_contain_text(f"甲推广{d['tag']}")  # its parent
    _shot(page, "promoter-list.png")

    # --- the pending application: approved on its detail page ---------------------------------------
    page.goto(url("/console/promoters/applications/"))
    application = page.locator(f'[data-application="{d["applicant"].pk}"]')
    expect(application).to_contain_text(f"丙申请{d['tag']}")
    with page.expect_navigation():
        application.get_by_role("link", name=f"丙申请{d['tag']}").click()
    detail = page.locator('[data-page="promoter-detail"]')
    expect(detail.locator("[data-status]")).to_have_text("待审核")
    with page.expect_navigation():
        detail.locator('button[data-action="approve"]').click()
    _flash(page, "已通过申请。")
    expect(detail.locator("[data-status]")).to_have_text("正常")
    assert promoter(d["applicant"]).status == "active"

    # --- 甲: frozen with a reason, then unfrozen ----------------------------------------------------
    page.goto(url(f"/console/promoters/inspect/{grand.pk}/"))
    expect(detail.locator("[data-available]")).to_have_text("¥700.00")
    expect(detail.locator('[data-entry="manual"]')).to_contain_text("开业奖励")
    expect(detail.locator('[data-withdrawal="reviewing"]')).to_contain_text("¥300.00")
    expect(detail.locator('[data-entry="accrued"]')).to_contain_text(d["order"].order_no)
    detail.locator("#freeze_reason").fill("刷单嫌疑，核查中")
    with page.expect_navigation():
        detail.locator('button[data-action="freeze"]').click()
    _flash(page, "已冻结。")
    expect(detail.locator("[data-status]")).to_have_text("已冻结")
    expect(detail).to_contain_text("刷单嫌疑，核查中")
    frozen = promoter(grand)
    assert (frozen.status, frozen.status_reason) == ("frozen", "刷单嫌疑，核查中")
    with page.expect_navigation():
        detail.locator('button[data-action="unfreeze"]').click()
    _flash(page, "已解除冻结。")
    expect(detail.locator("[data-status]")).to_have_text("正常")
    assert promoter(grand).status == "active"
    logs = _db(
        tenant_a,
        lambda: list(DistributionLog.objects.filter(promoter_id=grand.pk).order_by("pk").values_list("action", "note")),
    )
    assert logs[-2:] == [("freeze", "刷单嫌疑，核查中"), ("unfreeze", "")]
    page.goto(url(f"/console/promoters/inspect/{grand.pk}/"))  # without the flash message
    expect(detail.locator('[data-log="freeze"]')).to_contain_text("刷单嫌疑，核查中")
    expect(detail.locator('[data-log="unfreeze"]')).to_have_count(1)
    _shot(page, "promoter-detail.png")

    # --- 佣金明细: every entry, with its order number; the export has one row per entry ----------------
    entries = _db(tenant_a, lambda: list(CommissionEntry.objects.select_related("order").order_by("-created", "-pk")))
    ours = [e for e in entries if e.order_id == d["order"].pk]
    assert sorted((e.promoter_id, e.level, e.kind) for e in ours) == sorted(
        [(d["parent"].pk, 1, "accrued"), (grand.pk, 2, "accrued")]
    )
    page.goto(url("/console/commissions/"))
    expect(page.locator("[data-ledger-totals]")).to_have_attribute("data-count", str(len(entries)))
    listing = page.locator("table.listing tbody")
    expect(listing.locator("tr", has_text=d["order"].order_no)).to_have_count(2)
    expect(listing.locator("tr", has_text="开业奖励")).to_have_count(1)
    _shot(page, "commission-ledger.png")
    # "导出 Excel" sits in the header's "…" dropdown (Wagtail's "动作" button): open it first.
    export = page.get_by_role("link", name="导出 Excel")
    page.get_by_role("button", name="动作", exact=True).click()  # Tippy mounts the links on opening
    with page.expect_download() as download:
        export.click()
    # Only the extension is checked: the view's ``export_filename = "commissions"`` is overridden by
    # the ModelViewSet's default (the table name), so the file is "promoters_commissionentry-….xlsx".
    assert download.value.suggested_filename.endswith(".xlsx"), download.value.suggested_filename
    content = Path(download.value.path()).read_bytes()  # Playwright's file has no extension
    assert content[:2] == b"PK"  # a zip: the XLSX container
    book = load_workbook(io.BytesIO(content), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert header[:3] == ("时间", "订单号", "商品")
    assert len(data) == len(entries)
    order_at = header.index("订单号")
    assert sum(1 for r in data if r[order_at] == d["order"].order_no) == 2

    # --- 提现: the request under review is approved ------------------------------------------------
    w = d["withdrawal"]
    page.goto(url("/console/withdrawals/"))
    expect(page.locator("table.listing tbody tr", has_text=grand.invite_code).first).to_contain_text("待审核")
    page.goto(url(f"/console/withdrawals/inspect/{w.pk}/"))
    review = page.locator('[data-page="withdrawal-detail"]')
    expect(review.locator("[data-status]")).to_have_text("待审核")
    expect(review.locator("[data-amount]")).to_have_text("¥300.00")
    with page.expect_navigation():
        review.locator('button[data-action="approve"]').click()
    _flash(page, "已通过，正在向微信发起转账。")
    # The action sets 待转账 (approved) and queues the transfer; a worker may already have moved it
    # on (to WeChat's state, or failed without WeChat): whatever the page shows is a state reached
    # from "approved", and the database is there or further along.
    shown = review.locator("[data-status]").get_attribute("data-status")
    assert shown == "approved" or WITHDRAWAL_FSM.can("approved", shown), shown
    expect(review.locator("[data-status]")).to_have_text(str(WithdrawalStatus(shown).label))  # 待转账, …
    approved = _db(tenant_a, lambda: Withdrawal.objects.get(pk=w.pk))
    assert approved.status == shown or WITHDRAWAL_FSM.can(shown, approved.status), (shown, approved.status)
    assert approved.reviewed_at is not None and approved.out_bill_no
    expect(review.locator('button[data-action="approve"]')).to_have_count(0)

    # --- the shopper's distribution: who holds it, and the touch that bound it ---------------------
    page.goto(url(f"/console/promoters/shopper/{d['shopper'].pk}/"))
    shopper = page.locator('[data-page="shopper-distribution"]')
    expect(shopper.locator(f'[data-binding="{d["parent"].pk}"]')).to_contain_text(f"乙推广{d['tag']}")
    won = shopper.locator("tr[data-won]")
    expect(won).to_have_count(1)
    for text in (d["device"], "10.0.0.8", "分享链接", f"乙推广{d['tag']}"):
        expect(won).to_contain_text(text)
    expect(shopper.locator('[data-graph-upline="2"]')).to_contain_text(f"甲推广{d['tag']}")
    _shot(page, "shopper-distribution.png")
