"""What an order can still give back (after-sales selectors: reads only, no writes).

The rules, in fen, written once:

* A line *paid* its share of the order's net goods amount: ``goods + adjust`` (a price change
  before payment, ``Order.adjust_fen``) is spread over the lines in proportion to their amounts
  (``core.money.allocate``: the shares add up to the net goods amount exactly). With no price
  change a line paid exactly its ``amount_fen``.
* The *shipping* the order paid is the rest: ``paid_fen − net goods``.
* A line's refundable rest is what it paid minus its refund lines of refunds that hold money
  (pending review, requested, processing, abnormal, success: ``OPEN_OR_DONE``). Declined,
  closed and rejected refunds give their share back.
* A refund's amount is the sum of its lines plus, possibly, a shipping part
  (``amount_fen − Σ lines``); the shipping rest is the paid shipping minus those parts.
* Only refunds of the order's own payment count: the automatic refund of a duplicate payment
  (another transaction) gives back that other payment, not the goods.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Sum

from core.money import allocate
from mall.orders.models import Order, OrderLine
from mall.payments.models import OPEN_OR_DONE, Payment, Refund, RefundLine


@dataclass
class LineRest:
    line: OrderLine
    paid_fen: int
    refunded_fen: int = 0
    refunded_quantity: int = 0

    @property
    def rest_fen(self) -> int:
        return max(self.paid_fen - self.refunded_fen, 0)

    @property
    def rest_quantity(self) -> int:
        return max(self.line.quantity - self.refunded_quantity, 0)


@dataclass
class OrderRest:
    order: Order
    payment: Payment | None
    lines: dict[int, LineRest] = field(default_factory=dict)
    shipping_paid_fen: int = 0
    shipping_refunded_fen: int = 0
    held_fen: int = 0  # Σ amounts of the payment's refunds that hold money

    @property
    def shipping_rest_fen(self) -> int:
        return max(self.shipping_paid_fen - self.shipping_refunded_fen, 0)

    @property
    def goods_rest_fen(self) -> int:
        return sum(r.rest_fen for r in self.lines.values())

    @property
    def rest_fen(self) -> int:
        """What may still be refunded in all: never more than paid minus what refunds hold."""
        paid = self.payment.amount_fen if self.payment else 0
        return max(min(paid - self.held_fen, self.goods_rest_fen + self.shipping_rest_fen), 0)


def original_payment(order: Order) -> Payment | None:
    """The payment that paid the order (not a duplicate one)."""
    return order.payments.filter(is_duplicate=False).order_by("paid_at", "pk").first()


def line_paid_amounts(order: Order, lines: list[OrderLine]) -> dict[int, int]:
    """Each line's share of the order's net goods amount (``goods + adjust``), exact to the fen."""
    if not lines:
        return {}
    net_goods = max(order.goods_fen + order.adjust_fen, 0)
    if order.paid_fen:
        net_goods = min(net_goods, order.paid_fen)
    ordered = sorted(lines, key=lambda line: line.pk)
    if net_goods == sum(line.amount_fen for line in ordered):
        return {line.pk: line.amount_fen for line in ordered}
    shares = allocate(net_goods, [line.amount_fen for line in ordered])
    return {line.pk: share for line, share in zip(ordered, shares, strict=True)}


def order_rest(order: Order) -> OrderRest:
    """The order's refundable rest, per line and in all (call it on a locked order row inside
    the action's transaction: the refunds it counts cannot change meanwhile)."""
    payment = original_payment(order)
    lines = list(order.lines.all().order_by("pk"))
    paid = line_paid_amounts(order, lines)
    rest = OrderRest(order=order, payment=payment)
    for line in lines:
        rest.lines[line.pk] = LineRest(line=line, paid_fen=paid[line.pk])
    net_goods = sum(paid.values())
    rest.shipping_paid_fen = max(order.paid_fen - net_goods, 0)
    if payment is None:
        return rest
    holding = Refund.objects.filter(order=order, payment=payment, status__in=OPEN_OR_DONE)
    rest.held_fen = holding.aggregate(s=Sum("amount_fen"))["s"] or 0
    by_line = (
        RefundLine.objects.filter(refund__in=holding)
        .values("line_id")
        .annotate(fen=Sum("amount_fen"), qty=Sum("quantity"))
        .order_by("line_id")
    )
    lines_total = 0
    for row in by_line:
        lines_total += row["fen"]
        if row["line_id"] in rest.lines:
            rest.lines[row["line_id"]].refunded_fen = row["fen"]
            rest.lines[row["line_id"]].refunded_quantity = row["qty"] or 0
    rest.shipping_refunded_fen = max(rest.held_fen - lines_total, 0)
    return rest
