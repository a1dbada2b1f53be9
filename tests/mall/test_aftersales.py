"""After-sales (issue 10 item 7): a shopper asks for a refund of the whole order or of some lines
with partial amounts; the merchant approves or declines with a reason; amounts are exact to the
fen, never beyond what a line paid, never beyond the order; a refund that succeeds publishes one
``order_line_refunded`` per line through the outbox, once however often WeChat repeats itself."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Sum
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from core.models import OutboxMessage
from mall.catalog.models import ShippingTemplate
from mall.orders.actions import cancel_order, place_order, transition_order
from mall.orders.models import Order, OrderStatus
from mall.payments.actions import (
    add_return_tracking,
    approve_refund,
    decline_refund,
    record_refund_result,
    request_after_sales,
    request_refund,
)
from mall.payments.models import OPEN_OR_DONE, Refund, RefundLine, RefundStatus
from mall.payments.refundable import order_rest
from tests.factories import CustomerFactory, ProductFactory, buyer, home, pay
from tests.mall.aftersales_probe import PROBE

SUBMIT = "mall.payments.effects.submit_refund"


def make_order(prices=(3990, 1250), quantities=(2, 1), *, shipping_fen=0, paid=True, adjust_fen=0):
    template = None
    if shipping_fen:
        template = ShippingTemplate.objects.create(name="快递", first_fee_fen=shipping_fen)
    products = [ProductFactory(price_fen=p, stock=1000, weight_g=500, shipping_template=template) for p in prices]
    order = place_order(**buyer(), items=[(p.pk, q) for p, q in zip(products, quantities, strict=True)])
    if adjust_fen:  # what the console's price change does before payment (test set-up only)
        Order.objects.filter(pk=order.pk).update(adjust_fen=adjust_fen, total_fen=order.total_fen + adjust_fen)
        order.refresh_from_db()
    return pay(order) if paid else order


def lines_of(order):
    return list(order.lines.order_by("pk"))


def succeed(refund):
    return record_refund_result(
        out_refund_no=refund.out_refund_no, refund_id=f"50300{refund.pk}", wechat_status="SUCCESS",
        amount_fen=refund.amount_fen,
    )  # fmt: skip


def test_whole_order_before_shipment_refunds_every_line_and_the_postage(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = make_order(shipping_fen=800)
        assert order.paid_fen == 3990 * 2 + 1250 + 800
        refund = request_after_sales(
            order=order, customer=order.customer, lines=None, reason="不想要了", kind="refund_only"
        )
        assert refund.status == RefundStatus.PENDING_REVIEW and refund.source == "shopper"
        assert refund.amount_fen == order.paid_fen
        parts = sorted(refund.lines.values_list("line__amount_fen", "amount_fen", "quantity"))
        assert parts == [(1250, 1250, 1), (7980, 7980, 2)]
        assert order.events.last().kind == "refund_requested"
        assert not OutboxMessage.objects.filter(handler=SUBMIT, payload__refund_id=refund.pk).exists()
        order.refresh_from_db()
        assert order.status == OrderStatus.PAID and order.after_sales  # the order keeps its place


def test_whole_order_after_shipment_leaves_the_postage(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = transition_order(order=make_order(shipping_fen=800), to=OrderStatus.SHIPPED)
        refund = request_after_sales(
            order=order, customer=order.customer, lines=None, reason="坏了", kind="refund_only"
        )
        assert refund.amount_fen == 3990 * 2 + 1250


def test_partial_lines_sum_exactly_and_never_beyond_a_line(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = make_order()
        a, b = lines_of(order)
        refund = request_after_sales(
            order=order,
            customer=order.customer,
            lines=[{"line_id": a.pk, "amount_fen": 1001, "quantity": 0}, {"line_id": b.pk, "amount_fen": 1}],
            reason="少发一件",
            kind="refund_only",
        )
        assert refund.amount_fen == 1002
        decline_refund(refund=refund, reason="已核实足量发货", actor=None)
        # a declined case gives its share back; over the line's rest is refused with its path
        with pytest.raises(ValidationError) as err:
            request_after_sales(
                order=order,
                customer=order.customer,
                lines=[{"line_id": b.pk, "amount_fen": 1}, {"line_id": a.pk, "amount_fen": 7981}],
                reason="再试",
                kind="refund_only",
            )
        assert list(err.value.message_dict) == ["lines[1].amount_fen"]
        assert "最多还能退 ¥79.80" in err.value.message_dict["lines[1].amount_fen"][0]
        done = request_after_sales(
            order=order, customer=order.customer, lines=[{"line_id": a.pk, "amount_fen": 7980}], reason="全退",
            kind="refund_only",
        )  # fmt: skip
        approve_refund(refund=done, actor=None)
        succeed(done)
        with pytest.raises(ValidationError) as err:
            request_after_sales(
                order=order, customer=order.customer, lines=[{"line_id": a.pk, "amount_fen": 1}], reason="还要",
                kind="refund_only",
            )  # fmt: skip
        assert "lines[0].amount_fen" in err.value.message_dict


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], "lines"),
        ([{"line_id": 999999999, "amount_fen": 1}], "lines[0].line_id"),
        ([{"line_id": "A", "amount_fen": 1}], "lines[0].line_id"),
        ([{"line_id": "LINE", "amount_fen": 0}], "lines[0].amount_fen"),
        ([{"line_id": "LINE", "amount_fen": -5}], "lines[0].amount_fen"),
        ([{"line_id": "LINE", "amount_fen": True}], "lines[0].amount_fen"),
        ([{"line_id": "LINE", "amount_fen": 1, "quantity": 3}], "lines[0].quantity"),
        ([{"line_id": "LINE", "amount_fen": 1}, {"line_id": "LINE", "amount_fen": 1}], "lines[1].line_id"),
    ],
)
def test_bad_lines_get_field_paths(tenant_a, db, lines, field):
    with schema_context(tenant_a.schema_name):
        order = make_order()
        line = lines_of(order)[0]
        lines = [{**item, "line_id": line.pk} if item.get("line_id") == "LINE" else item for item in lines]
        with pytest.raises(ValidationError) as err:
            request_after_sales(order=order, customer=order.customer, lines=lines, reason="测试", kind="refund_only")
        assert field in err.value.message_dict
        assert not Refund.objects.filter(order=order).exists()


def test_only_paid_orders_of_the_shopper_and_one_open_case(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        unpaid = make_order(paid=False)
        for order in (unpaid, cancel_order(order=make_order(paid=False), reason="不要了")):
            with pytest.raises(ValidationError) as err:
                request_after_sales(order=order, customer=order.customer, lines=None, reason="退", kind="refund_only")
            assert err.value.error_dict["order"][0].code == "not_refundable"
        order = make_order()
        with pytest.raises(ValidationError) as err:
            request_after_sales(order=order, customer=CustomerFactory(), lines=None, reason="退", kind="refund_only")
        assert err.value.error_dict["order"][0].code == "unknown_order"
        for bad, field in (({"reason": ""}, "reason"), ({"kind": "swap"}, "kind"), ({"reason": "长" * 81}, "reason")):
            kwargs = {"reason": "退", "kind": "refund_only", **bad}
            with pytest.raises(ValidationError) as err:
                request_after_sales(order=order, customer=order.customer, lines=None, **kwargs)
            assert field in err.value.message_dict
        first = request_after_sales(
            order=order, customer=order.customer, lines=[{"line_id": lines_of(order)[0].pk, "amount_fen": 100}],
            reason="先退一点", kind="refund_only",
        )  # fmt: skip
        with pytest.raises(ValidationError) as err:
            request_after_sales(order=order, customer=order.customer, lines=None, reason="再退", kind="refund_only")
        assert err.value.error_dict["order"][0].code == "case_open"
        decline_refund(refund=first, reason="不符合", actor=None)
        assert request_after_sales(order=order, customer=order.customer, lines=None, reason="再退", kind="refund_only")


def test_return_and_refund_needs_shipment_pieces_and_tracking_before_approval(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = make_order()
        line = lines_of(order)[0]
        with pytest.raises(ValidationError) as err:
            request_after_sales(order=order, customer=order.customer, lines=None, reason="退货", kind="return_refund")
        assert "kind" in err.value.message_dict  # not shipped yet: refund only
        transition_order(order=order, to=OrderStatus.SHIPPED)
        with pytest.raises(ValidationError) as err:
            request_after_sales(
                order=order, customer=order.customer, lines=[{"line_id": line.pk, "amount_fen": 3990}],
                reason="退货", kind="return_refund",
            )  # fmt: skip
        assert "lines[0].quantity" in err.value.message_dict
        with pytest.raises(ValidationError) as err:
            request_after_sales(
                order=order, customer=order.customer, lines=[{"line_id": line.pk, "amount_fen": 3990, "quantity": 1}],
                reason="退货", kind="refund_only", return_tracking_no="SF1234567",
            )  # fmt: skip
        assert "return_tracking_no" in err.value.message_dict
        refund = request_after_sales(
            order=order, customer=order.customer, lines=[{"line_id": line.pk, "amount_fen": 3990, "quantity": 1}],
            reason="退货", kind="return_refund",
        )  # fmt: skip
        with pytest.raises(ValidationError) as err:
            approve_refund(refund=refund, actor=None)
        assert err.value.error_dict["return_tracking_no"][0].code == "return_missing"
        with pytest.raises(ValidationError):
            add_return_tracking(
                refund=refund, customer=CustomerFactory(), return_carrier="顺丰", return_tracking_no="SF1"
            )
        with pytest.raises(ValidationError) as err:
            add_return_tracking(refund=refund, customer=order.customer, return_carrier="顺丰", return_tracking_no="x")
        assert "return_tracking_no" in err.value.message_dict
        add_return_tracking(
            refund=refund, customer=order.customer, return_carrier="顺丰", return_tracking_no="sf1234567"
        )
        refund.refresh_from_db()
        assert (refund.return_carrier, refund.return_tracking_no) == ("顺丰", "SF1234567")
        approved = approve_refund(refund=refund, actor=None)
        assert approved.status == RefundStatus.REQUESTED and approved.reviewed_at
        assert OutboxMessage.objects.filter(handler=SUBMIT, payload__refund_id=refund.pk).count() == 1
        assert order.events.last().kind == "refund_approved"
        with pytest.raises(ValidationError):  # reviewed once
            approve_refund(refund=refund, actor=None)
        with pytest.raises(ValidationError):
            add_return_tracking(
                refund=refund, customer=order.customer, return_carrier="圆通", return_tracking_no="YT123456"
            )


def test_decline_needs_a_reason_and_finishes_the_case(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = make_order()
        refund = request_after_sales(order=order, customer=order.customer, lines=None, reason="退", kind="refund_only")
        for reason in ("", " ", "x"):
            with pytest.raises(ValidationError) as err:
                decline_refund(refund=refund, reason=reason, actor=None)
            assert "reason" in err.value.message_dict
        declined = decline_refund(refund=refund, reason="商品已使用，不支持退款", actor=None)
        assert declined.status == RefundStatus.DECLINED and declined.decline_reason == "商品已使用，不支持退款"
        assert declined.finished_at and declined.reviewed_at
        event = order.events.last()
        assert event.kind == "refund_declined" and "商品已使用" in event.note
        with pytest.raises(ValidationError):
            approve_refund(refund=refund, actor=None)
        assert not OutboxMessage.objects.filter(handler=SUBMIT, payload__refund_id=refund.pk).exists()


def test_merchant_refund_spreads_over_lines_exactly(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = make_order(prices=(333, 667, 1), quantities=(1, 1, 1), shipping_fen=500)
        refund = request_refund(order=order, amount_fen=500, reason="补偿")
        assert refund.status == RefundStatus.REQUESTED and refund.source == "merchant"
        parts = dict(refund.lines.values_list("line__amount_fen", "amount_fen"))
        assert sum(parts.values()) == 500 and all(parts[k] <= k for k in parts)
        # the rest of the goods and the postage
        rest = request_refund(order=order, amount_fen=order.paid_fen - 500)
        assert rest.amount_fen - rest.lines.aggregate(s=Sum("amount_fen"))["s"] == 500
        with pytest.raises(ValidationError) as err:
            request_refund(order=order, amount_fen=1)
        assert "amount_fen" in err.value.message_dict
        line = lines_of(make_order())[0]
        given = request_refund(order=line.order, lines=[{"line_id": line.pk, "amount_fen": 77}], reason="差价")
        assert given.amount_fen == 77 and given.lines.get().amount_fen == 77


def test_a_price_change_is_spread_over_what_lines_paid(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = make_order(prices=(1000, 3000), quantities=(1, 1), adjust_fen=-1001)
        rest = order_rest(order)
        paid = [rest.lines[line.pk].paid_fen for line in lines_of(order)]
        assert sum(paid) == 2999 == order.paid_fen
        assert paid == [750, 2249] or paid == [749, 2250]
        a = lines_of(order)[0]
        with pytest.raises(ValidationError) as err:
            request_after_sales(
                order=order, customer=order.customer, lines=[{"line_id": a.pk, "amount_fen": 1000}], reason="退",
                kind="refund_only",
            )  # fmt: skip
        assert "lines[0].amount_fen" in err.value.message_dict
        whole = request_after_sales(order=order, customer=order.customer, lines=None, reason="退", kind="refund_only")
        assert whole.amount_fen == 2999


def test_success_publishes_each_line_once_even_if_the_notify_repeats(tenant_a, db, settings):
    settings.ORDER_LINE_REFUNDED_HANDLERS = [PROBE]
    with schema_context(tenant_a.schema_name):
        order = make_order()
        a, b = lines_of(order)
        refund = request_after_sales(
            order=order,
            customer=order.customer,
            lines=[{"line_id": a.pk, "amount_fen": 3990, "quantity": 1}, {"line_id": b.pk, "amount_fen": 50}],
            reason="退一件",
            kind="refund_only",
        )
        approve_refund(refund=refund, actor=None)
        assert not OutboxMessage.objects.filter(handler=PROBE, payload__refund_id=refund.pk).exists()
        for _ in range(3):
            succeed(refund)
        published = sorted(
            (m["line_id"], m["amount_fen"], m["quantity"])
            for m in OutboxMessage.objects.filter(
                handler=PROBE, payload__refund_id=refund.pk, schema_name=tenant_a.schema_name
            ).values_list("payload", flat=True)
        )
        assert published == sorted([(a.pk, 3990, 1), (b.pk, 50, 0)])


def test_no_subscribers_no_messages(tenant_a, db, settings):
    settings.ORDER_LINE_REFUNDED_HANDLERS = []
    with schema_context(tenant_a.schema_name):
        order = make_order()
        refund = request_refund(order=order, amount_fen=100)
        before = OutboxMessage.objects.count()
        succeed(refund)
        assert OutboxMessage.objects.count() == before


# --- properties ------------------------------------------------------------------------------

request_st = st.lists(
    st.tuples(
        st.sampled_from(["shopper", "merchant"]),
        st.lists(st.tuples(st.integers(0, 3), st.integers(1, 9000)), min_size=0, max_size=4),
        st.sampled_from(["success", "decline", "open"]),
    ),
    min_size=1,
    max_size=6,
)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prices=st.lists(st.integers(1, 5000), min_size=1, max_size=4),
    qty=st.integers(1, 3),
    shipping=st.sampled_from([0, 1, 800]),
    adjust=st.integers(-3000, 500),
    requests=request_st,
)
def test_random_partial_refunds_never_exceed_lines_or_the_order(tenant_a, db, prices, qty, shipping, adjust, requests):
    with schema_context(tenant_a.schema_name):
        goods = sum(prices) * qty
        adjust = max(adjust, 1 - goods)
        order = make_order(tuple(prices), (qty,) * len(prices), shipping_fen=shipping, adjust_fen=adjust)
        lines = lines_of(order)
        paid_by_line = {pk: r.paid_fen for pk, r in order_rest(order).lines.items()}
        assert sum(paid_by_line.values()) <= order.paid_fen
        for who, wanted, outcome in requests:
            asked = {}
            for index, amount in wanted:
                if index < len(lines):
                    asked.setdefault(lines[index].pk, amount)
            payload = [{"line_id": pk, "amount_fen": amount} for pk, amount in asked.items()] or None
            try:
                if who == "shopper":
                    refund = request_after_sales(
                        order=order, customer=order.customer, lines=payload, reason="随机", kind="refund_only"
                    )
                else:
                    refund = request_refund(
                        order=order, lines=payload, amount_fen=None if payload else sum(a for _i, a in wanted) or 1
                    )
            except ValidationError as exc:
                assert set(exc.message_dict) <= {"order", "lines", "amount_fen"} | {
                    f"lines[{i}].amount_fen" for i in range(len(asked))
                }
                continue
            if payload is not None:  # every accepted request sums exactly what was asked
                assert refund.amount_fen == sum(asked.values())
                assert dict(refund.lines.values_list("line_id", "amount_fen")) == asked
            assert refund.amount_fen >= (refund.lines.aggregate(s=Sum("amount_fen"))["s"] or 0)
            if refund.status == RefundStatus.PENDING_REVIEW:
                if outcome == "decline":
                    decline_refund(refund=refund, reason="随机拒绝", actor=None)
                    continue
                approve_refund(refund=refund, actor=None)
            if outcome == "success":
                succeed(refund)
            elif refund.source == "shopper" or outcome == "decline":
                record_refund_result(
                    out_refund_no=refund.out_refund_no, refund_id="x", wechat_status="CLOSED",
                    amount_fen=refund.amount_fen,
                )  # fmt: skip
        holding = RefundLine.objects.filter(refund__order=order, refund__status__in=OPEN_OR_DONE)
        for line in lines:
            held = holding.filter(line=line).aggregate(s=Sum("amount_fen"))["s"] or 0
            assert held <= paid_by_line[line.pk]
        total = Refund.objects.filter(order=order, status__in=OPEN_OR_DONE).aggregate(s=Sum("amount_fen"))["s"] or 0
        assert total <= order.paid_fen


# --- concurrency -----------------------------------------------------------------------------


def _run_threads(n, work):
    outcomes = []

    def run(i):
        try:
            outcomes.append(work(i))
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.fixture
def leave_no_open_refunds(tenant_b, committed):
    """Committed rows outlive the test: close its refunds and drop their WeChat submissions
    (no worker may call WeChat for them, no dashboard may count them)."""
    yield
    with schema_context(tenant_b.schema_name):
        ids = list(Refund.objects.filter(status__in=OPEN_OR_DONE).values_list("pk", flat=True))
        Refund.objects.filter(pk__in=ids).update(status=RefundStatus.CLOSED)
    OutboxMessage.objects.filter(handler=SUBMIT, schema_name=tenant_b.schema_name, payload__refund_id__in=ids).delete()
    connections.close_all()


def test_concurrent_requests_for_one_line_never_exceed_it(tenant_b, leave_no_open_refunds):
    tenant_a = tenant_b  # a store the console tests do not count
    with schema_context(tenant_a.schema_name):
        product = ProductFactory(price_fen=1000, stock=100)
        customer = CustomerFactory()
        order = pay(place_order(customer=customer, address=home(customer), items=[(product.pk, 1)]))
        line = order.lines.get()

    def merchant(i):
        with schema_context(tenant_a.schema_name):
            return request_refund(order=order, lines=[{"line_id": line.pk, "amount_fen": 300}], reason=f"并发{i}").pk

    outcomes = _run_threads(8, merchant)
    assert len([o for o in outcomes if o != "refused"]) == 3  # 3 × 300 ≤ 1000 < 4 × 300
    with schema_context(tenant_a.schema_name):
        held = RefundLine.objects.filter(line=line, refund__status__in=OPEN_OR_DONE).aggregate(s=Sum("amount_fen"))
        assert held["s"] == 900
        order = pay(place_order(customer=customer, address=home(customer), items=[(product.pk, 1)]))
        line = order.lines.get()

    def shopper(i):
        with schema_context(tenant_a.schema_name):
            return request_after_sales(
                order=order, customer=customer, lines=[{"line_id": line.pk, "amount_fen": 100}], reason=f"并发{i}",
                kind="refund_only",
            ).pk  # fmt: skip

    outcomes = _run_threads(8, shopper)
    assert len([o for o in outcomes if o != "refused"]) == 1  # one open case per order
    with schema_context(tenant_a.schema_name):
        held = RefundLine.objects.filter(line=line, refund__status__in=OPEN_OR_DONE).aggregate(s=Sum("amount_fen"))
        assert held["s"] == 100
    connections.close_all()
