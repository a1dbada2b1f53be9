"""Shipping and tracking actions (house rules 1–3, 10): manual shipping in parcels (split per
line), the carrier's track applied idempotently, receipt confirmed by the shopper or by the
beat task some days after delivery.

* ``ship_order`` — a paid order's physical units go out in one or more parcels; the order moves
  to SHIPPED once every physical unit has a parcel (a partial shipment keeps it PAID). Each
  parcel is subscribed at the tracking API through the outbox (after commit, no lock held).
* ``record_tracking`` — a push or a query: new TrackingEvent rows only, the parcel's state, the
  order's ``has_real_track`` on the first real event, delivered → ``order.delivered_at`` and a
  DELIVERED event once every parcel is delivered. Every change writes the order's timeline.
* ``confirm_receipt`` (shopper) and ``complete_delivered_orders`` (beat) → COMPLETED.

An order none of whose parcels ever got a carrier event keeps ``has_real_track = False``: the
console shows 无真实物流 and commission is not settled on it (SPEC M8)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from integrations.logistics import carriers
from mall.catalog.models import ProductKind
from mall.customers.models import Customer
from mall.orders.actions import log_event, move_order
from mall.orders.models import (
    Order,
    OrderEventKind,
    OrderSettings,
    OrderStatus,
    Shipment,
    ShipmentLine,
    TrackingEvent,
    TrackState,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser as User

TRACKING_NO_RE = re.compile(r"^[A-Za-z0-9-]{6,40}$")
MAX_PARCELS = 20
# How far along a state is (a late push of an earlier step never moves a parcel back).
STATE_RANK = {
    TrackState.NONE: 0,
    TrackState.COLLECTED: 1,
    TrackState.IN_TRANSIT: 2,
    TrackState.DELIVERING: 3,
    TrackState.EXCEPTION: 3,
    TrackState.DELIVERED: 4,
}


def _clean_parcels(parcels: Any) -> list[dict]:
    if not isinstance(parcels, (list, tuple)) or not parcels:
        raise ValidationError({"lines": _("请至少填写一个包裹。")})
    if len(parcels) > MAX_PARCELS:
        raise ValidationError({"lines": _("一次最多发 %(n)s 个包裹。") % {"n": MAX_PARCELS}})
    cleaned, seen = [], set()
    for parcel in parcels:
        if not isinstance(parcel, dict):
            raise ValidationError({"lines": _("包裹格式错误。")})
        carrier = str(parcel.get("carrier") or "").strip()
        tracking_no = str(parcel.get("tracking_no") or "").strip().upper()
        if not carriers.is_known(carrier):
            raise ValidationError({"carrier": ValidationError(_("请选择快递公司。"), code="invalid_carrier")})
        if not TRACKING_NO_RE.match(tracking_no):
            raise ValidationError(
                {"tracking_no": ValidationError(_("运单号须为 6–40 位字母、数字或短横线。"), code="invalid")}
            )
        if (carrier, tracking_no) in seen:
            raise ValidationError({"tracking_no": _("同一运单号不能填写两次。")})
        seen.add((carrier, tracking_no))
        wanted: Counter = Counter()
        for item in parcel.get("lines") or []:
            try:
                line_id, quantity = item
            except (TypeError, ValueError):
                raise ValidationError({"lines": _("发货明细格式错误。")}) from None
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise ValidationError({"lines": _("发货数量须为非负整数。")})
            if quantity:
                wanted[int(line_id)] += quantity
        if not wanted:
            raise ValidationError({"lines": _("每个包裹至少发一件商品。")})
        cleaned.append({"carrier": carrier, "tracking_no": tracking_no, "lines": wanted})
    return cleaned


def shipped_quantities(order: Order) -> dict[int, int]:
    """Units of each order line already in a parcel."""
    rows = ShipmentLine.objects.filter(shipment__order=order).values("line_id").annotate(n=Sum("quantity"))
    return {r["line_id"]: r["n"] for r in rows}


def refunded_unshipped_quantities(order: Order) -> dict[int, int]:
    """Units of each order line given back before they shipped: the quantities of the order's
    refund-only refunds that hold money (``OPEN_OR_DONE``; a return-and-refund gives back units
    that were shipped). A declined or closed refund gives its units back to the shipment."""
    from mall.payments.models import OPEN_OR_DONE, RefundKind, RefundLine  # payments builds on orders

    rows = (
        RefundLine.objects.filter(
            line__order=order, refund__kind=RefundKind.REFUND_ONLY, refund__status__in=OPEN_OR_DONE, quantity__gt=0
        )
        .values("line_id")
        .annotate(n=Sum("quantity"))
    )
    return {r["line_id"]: r["n"] for r in rows}


def units_to_ship(order: Order, physical: dict[int, int] | None = None) -> dict[int, int]:
    """Each physical line's units still to ship: ordered − shipped − refunded before shipping.
    ``physical``: the physical lines' ordered quantities by id, when the caller has them."""
    if physical is None:
        physical = dict(order.lines.filter(kind=ProductKind.PHYSICAL).values_list("pk", "quantity"))
    shipped = shipped_quantities(order)
    refunded = refunded_unshipped_quantities(order)
    return {lid: max(q - shipped.get(lid, 0) - refunded.get(lid, 0), 0) for lid, q in physical.items()}


def ship_order(*, order: Order, parcels: list[dict], actor: User | None = None) -> list[Shipment]:
    """Ship some or all of a paid order's physical units. ``parcels``: ``[{"carrier",
    "tracking_no", "lines": [(order line id, quantity), …]}, …]``. A line never ships more than
    was ordered minus what is already shipped and what a refund-only refund gave back; the
    order is shipped once nothing is left to ship."""
    cleaned = _clean_parcels(parcels)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.PAID:
            raise ValidationError(
                {
                    "status": ValidationError(
                        _("订单状态为“%(s)s”，只有待发货的订单可以发货。") % {"s": locked.get_status_display()},
                        code="not_shippable",
                    )
                }
            )
        physical = {line.pk: line for line in locked.lines.filter(kind=ProductKind.PHYSICAL)}
        if not physical:
            raise ValidationError({"lines": ValidationError(_("该订单没有需要发货的实物商品。"), code="no_physical")})
        left = units_to_ship(locked, {pk: line.quantity for pk, line in physical.items()})
        taking: Counter = Counter()
        for parcel in cleaned:
            for line_id, quantity in parcel["lines"].items():
                line = physical.get(line_id)
                if line is None:
                    raise ValidationError({"lines": _("订单中没有这件需要发货的商品（%(id)s）。") % {"id": line_id}})
                taking[line_id] += quantity
                if taking[line_id] > left[line_id]:
                    raise ValidationError(
                        {
                            "lines": ValidationError(
                                _("“%(title)s”最多还能发 %(left)s 件。") % {"title": line.title, "left": left[line_id]},
                                code="too_many",
                            )
                        }
                    )
            if Shipment.objects.filter(carrier=parcel["carrier"], tracking_no=parcel["tracking_no"]).exists():
                raise ValidationError(
                    {"tracking_no": ValidationError(_("该运单号已经用于其他包裹。"), code="duplicate")}
                )
        now = timezone.now()
        shipments = []
        for parcel in cleaned:
            shipment = Shipment.objects.create(
                order=locked, carrier=parcel["carrier"], tracking_no=parcel["tracking_no"]
            )
            ShipmentLine.objects.bulk_create(
                [ShipmentLine(shipment=shipment, line_id=lid, quantity=q) for lid, q in sorted(parcel["lines"].items())]
            )
            outbox.record("mall.orders.shipping_effects.subscribe_shipment", shipment_id=shipment.pk)
            shipments.append(shipment)
        note = "；".join(f"{carriers.name(p['carrier'])} {p['tracking_no']}" for p in cleaned)
        complete = all(taking[lid] >= n for lid, n in left.items())
        if complete:
            move_order(locked, OrderStatus.SHIPPED, kind=OrderEventKind.SHIPPED, actor=actor, note=note, shipped_at=now)
        else:
            log_event(order=locked, kind=OrderEventKind.SHIPPED, actor=actor, note=_("部分发货：%(p)s") % {"p": note})
    return shipments


def silent_shipments(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Parcels to ask the carrier about (the re-query beat): not delivered, of an order still
    paid or shipped, shipped within ``TRACKING_REQUERY_MAX_DAYS``, and nothing heard or asked for
    ``TRACKING_REQUERY_HOURS`` (a push can be lost; the carrier's query has the whole track).
    Oldest first, at most ``limit`` per run."""
    now = now or timezone.now()
    quiet = now - timedelta(hours=settings.TRACKING_REQUERY_HOURS)
    return list(
        Shipment.objects.filter(
            delivered_at__isnull=True,
            order__status__in=(OrderStatus.PAID, OrderStatus.SHIPPED),
            shipped_at__gte=now - timedelta(days=settings.TRACKING_REQUERY_MAX_DAYS),
            shipped_at__lte=quiet,
        )
        .filter(Q(checked_at__isnull=True) | Q(checked_at__lte=quiet))
        .order_by("checked_at", "shipped_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def mark_checked(*, shipment_id: int, now: datetime | None = None) -> None:
    """We asked the carrier about this parcel (before the call, so a failing carrier is asked
    again only after the quiet period, never in a loop)."""
    Shipment.objects.filter(pk=shipment_id).update(checked_at=now or timezone.now())


def mark_subscribed(*, shipment_id: int) -> None:
    """The tracking API accepted the parcel's subscription (called by the outbox handler)."""
    with transaction.atomic():
        Shipment.objects.filter(pk=shipment_id, subscribed=False).update(subscribed=True)


def _step_fields(step: Any) -> tuple[str, str, str, datetime]:
    get = step.get if isinstance(step, dict) else lambda k, d=None: getattr(step, k, d)
    state = str(get("state") or "")
    if state not in TrackState.values or state == TrackState.NONE:
        raise ValidationError({"events": _("未知的物流状态：%(s)s") % {"s": state}})
    when = get("occurred_at")
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise ValidationError({"events": _("物流事件缺少时间。")})
    return state, str(get("description") or "")[:200], str(get("location") or "")[:60], when


def record_tracking(*, carrier: str, tracking_no: str, events: Iterable[Any]) -> Shipment | None:
    """Apply a parcel's track (a push or a query; the whole track or part of it). Idempotent:
    an event already recorded is skipped, so a repeated push changes nothing. Returns the
    shipment, or None when no parcel of this store has that carrier and number."""
    steps = sorted({_step_fields(s) for s in events}, key=lambda s: (s[3], STATE_RANK[s[0]]))
    found = Shipment.objects.filter(carrier=carrier, tracking_no=str(tracking_no).strip().upper()).first()
    if found is None:
        return None
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=found.order_id)  # order, then its parcel
        shipment = Shipment.objects.select_for_update().get(pk=found.pk)
        known = set(shipment.events.values_list("occurred_at", "description"))
        new = [s for s in steps if (s[3], s[1]) not in known]
        if not new:
            return shipment
        TrackingEvent.objects.bulk_create(
            [
                TrackingEvent(shipment=shipment, state=state, description=text, location=loc, occurred_at=when)
                for state, text, loc, when in new
            ]
        )
        label = f"{carriers.name(shipment.carrier)} {shipment.tracking_no}"
        for state, text, _loc, _when in new:
            log_event(order=order, kind=OrderEventKind.TRACKING, note=f"{label} {TrackState(state).label}：{text}")
        shipment.checked_at = timezone.now()
        changed = ["checked_at"]
        latest = max(new, key=lambda s: (STATE_RANK[s[0]], s[3]))
        if STATE_RANK[latest[0]] >= STATE_RANK[shipment.state] and latest[0] != shipment.state:
            shipment.state = latest[0]
            changed.append("state")
        if shipment.state == TrackState.DELIVERED and shipment.delivered_at is None:
            shipment.delivered_at = latest[3]
            changed.append("delivered_at")
        if changed:
            shipment.save(update_fields=changed)
        order_changed = []
        if not order.has_real_track:
            order.has_real_track = True
            order_changed.append("has_real_track")
        if (
            order.status == OrderStatus.SHIPPED
            and order.delivered_at is None
            and not order.shipments.exclude(state=TrackState.DELIVERED).exists()
        ):
            order.delivered_at = max(order.shipments.values_list("delivered_at", flat=True))
            order_changed.append("delivered_at")
            log_event(order=order, kind=OrderEventKind.DELIVERED, note=label)
        if order_changed:
            order.save(update_fields=order_changed)
    return shipment


def _complete(order: Order, *, note: str, actor: User | None = None, customer: Customer | None = None) -> Order:
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if customer is not None and locked.customer_id != customer.pk:
        raise ValidationError({"order_no": ValidationError(_("订单不存在。"), code="not_found")})
    if locked.status == OrderStatus.PAID:
        # PAID → COMPLETED exists only for redeemed service orders (``redeem_order``): goods
        # are completed once they have shipped.
        raise ValidationError(
            {
                "status": ValidationError(
                    _("订单状态为“%(s)s”，发货后才能确认收货。") % {"s": locked.get_status_display()},
                    code="not_shipped",
                )
            }
        )
    move_order(
        locked, OrderStatus.COMPLETED, kind=OrderEventKind.COMPLETED, actor=actor, note=note,
        completed_at=timezone.now(),
    )  # fmt: skip
    return locked


def confirm_receipt(*, order: Order, customer: Customer) -> Order:
    """The shopper confirms receipt of a shipped order: it is completed."""
    with transaction.atomic():
        return _complete(order, note=_("买家确认收货"), customer=customer)


def complete_delivered_orders(*, now: datetime | None = None) -> int:
    """Beat task (per tenant): shipped orders delivered more than ``auto_complete_days`` ago
    are completed. Each order in its own short transaction; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=OrderSettings.current().auto_complete_days)
    due: Sequence[int] = list(
        Order.objects.filter(status=OrderStatus.SHIPPED, delivered_at__lte=cutoff).values_list("pk", flat=True)[:1000]
    )
    done = 0
    for pk in due:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=pk)
            if order.status != OrderStatus.SHIPPED or order.delivered_at is None or order.delivered_at > cutoff:
                continue
            _complete(order, note=_("签收 %(d)s 天后自动确认收货") % {"d": OrderSettings.current().auto_complete_days})
            done += 1
    return done
