"""Unpaid orders: settle the ones whose notify never came, cancel the ones past their deadline.

Run by beat for every store (``mall.payments.tasks``). WeChat is asked with no transaction
open (house rule 10); what it says is recorded by actions in their own short locked
transactions (``record_payment``, ``expire_order``). Both runs are idempotent and safe to run
twice at once: a payment is recorded once per transaction id, an order is cancelled once
(``SKIP LOCKED`` + its status checked under the lock).

* ``query_unpaid_orders``: orders unpaid for more than ``OrderSettings.unpaid_query_minutes``
  and not yet expired are queried at WeChat Pay; a SUCCESS is recorded (WeChat retries a lost
  notify for ~24 h; we do not wait that long).
* ``expire_unpaid_orders``: orders past ``expires_at`` and still unpaid. WeChat is asked first
  (a paid one is recorded, never cancelled), then the WeChat order is closed (after that no one
  can pay it; WeChat answering "already paid" means it was paid at the last second: it is
  queried and recorded), and only then the order is cancelled with 超时未付款自动取消 and its
  stock released (``cancel_order``). If WeChat cannot be reached the order waits for the next
  run: an order is never cancelled while a payment for it may still go through.

An order whose payment was refused for its amount (``PaymentAnomaly(amount_mismatch)``) is left
to the merchant: it is neither re-queried nor cancelled here (the shopper's money is at WeChat).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.wechat.errors import WeChatPayError, WeChatUnavailable
from integrations.wechat.pay import PayClient
from mall.orders.actions import cancel_order, record_payment
from mall.orders.models import Order, OrderSettings, OrderStatus
from mall.payments.actions import out_trade_no, parse_wechat_time
from mall.payments.models import AnomalyKind

log = logging.getLogger(__name__)

BATCH = 200
PAID_STATES = ("SUCCESS", "REFUND")


def _unpaid():
    return Order.objects.filter(status=OrderStatus.PENDING_PAYMENT).exclude(
        payment_anomalies__kind=AnomalyKind.AMOUNT_MISMATCH
    )


def _client() -> PayClient | None:
    try:
        return PayClient()
    except ImproperlyConfigured:
        return None  # WeChat Pay not configured: no order of ours can have been paid through it


def _no_transaction(what: str) -> None:
    if connection.in_atomic_block:
        raise RuntimeError(f"{what} calls WeChat: it must not run inside a transaction")


def _query(client: PayClient, order: Order) -> dict | None:
    """WeChat's view of the order, or None if WeChat never heard of it (no prepay was made)."""
    try:
        return client.query(out_trade_no=out_trade_no(order))
    except WeChatUnavailable:
        raise
    except WeChatPayError as exc:
        if exc.code == "ORDER_NOT_EXIST":
            return None
        raise


def _record(order: Order, data: dict) -> str:
    try:
        record_payment(
            order_no=order.order_no,
            transaction_id=str(data["transaction_id"]),
            amount_fen=int(data["amount"]["total"]),
            paid_at=parse_wechat_time(data.get("success_time")),
        )
    except ValidationError as exc:
        log.error("order %s: WeChat says paid but the payment was refused: %s", order.order_no, exc.messages)
        return "refused"
    return "paid"


def query_unpaid_orders(*, now=None, limit: int = BATCH) -> dict[str, int]:
    """Ask WeChat about orders whose notify is late; record the ones it says are paid."""
    _no_transaction("query_unpaid_orders")
    now = now or timezone.now()
    minutes = OrderSettings.current().unpaid_query_minutes
    orders = list(
        _unpaid()
        .filter(created__lte=now - timedelta(minutes=minutes), expires_at__gt=now)
        .only("pk", "order_no")
        .order_by("created")[:limit]
    )
    counts = {"queried": 0, "paid": 0, "refused": 0}
    client = _client() if orders else None
    if client is None:
        return counts
    for order in orders:
        try:
            data = _query(client, order)
        except WeChatUnavailable as exc:
            log.warning("unpaid-order query stopped, WeChat unavailable: %s", exc)
            break
        except WeChatPayError as exc:
            log.warning("unpaid-order query of %s refused by WeChat: %s", order.order_no, exc)
            continue
        counts["queried"] += 1
        if data and data.get("trade_state") in PAID_STATES:
            counts[_record(order, data)] += 1
    return counts


def expire_unpaid_orders(*, now=None, limit: int = BATCH) -> dict[str, int]:
    """Cancel the unpaid orders past ``expires_at`` (after making sure WeChat took no money)."""
    _no_transaction("expire_unpaid_orders")
    now = now or timezone.now()
    ids = list(_unpaid().filter(expires_at__lte=now).order_by("expires_at").values_list("pk", flat=True)[:limit])
    counts = {"cancelled": 0, "paid": 0, "refused": 0, "skipped": 0}
    if not ids:
        return counts
    client = _client()
    for pk in ids:
        order = Order.objects.filter(pk=pk, status=OrderStatus.PENDING_PAYMENT).only("pk", "order_no").first()
        if order is None:
            continue  # paid or cancelled meanwhile
        try:
            outcome = _expire_one(client, order, now=now)
        except WeChatUnavailable as exc:
            log.warning("unpaid-order expiry stopped, WeChat unavailable: %s", exc)
            break
        counts[outcome] += 1
    return counts


def _expire_one(client: PayClient | None, order: Order, *, now) -> str:
    if client is not None:
        try:
            data = _query(client, order)
        except WeChatPayError as exc:
            log.warning("expiry: query of %s refused by WeChat: %s", order.order_no, exc)
            return "skipped"
        if data is not None:
            if data.get("trade_state") in PAID_STATES:
                return _record(order, data)
            try:
                client.close(out_trade_no=out_trade_no(order))
            except WeChatUnavailable:
                raise
            except WeChatPayError as exc:
                if exc.code != "ORDERPAID":
                    log.warning("expiry: closing %s refused by WeChat: %s", order.order_no, exc)
                    return "skipped"
                data = _query(client, order)  # paid at the last second
                if data and data.get("trade_state") in PAID_STATES:
                    return _record(order, data)
                return "skipped"
    return "cancelled" if expire_order(order_id=order.pk, now=now) else "skipped"


def expire_order(*, order_id: int, now=None) -> Order | None:
    """Cancel one unpaid order past its deadline, releasing its stock (``cancel_order``). Returns
    None when there is nothing to do: the order is being changed by someone else right now
    (``SKIP LOCKED``), was paid or cancelled meanwhile, or is not past its deadline."""
    now = now or timezone.now()
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(skip_locked=True)
            .filter(pk=order_id, status=OrderStatus.PENDING_PAYMENT, expires_at__lte=now)
            .first()
        )
        if order is None:
            return None
        return cancel_order(order=order, reason=_("超时未付款自动取消"))
