"""The profit-sharing payout mode (SPEC M6, M16): commission reaches promoters by splitting the
paid order at WeChat Pay (分账) at settlement, instead of promoters asking for transfers.

At settlement (``commission._settle``) each promoter's settled amount on an order paid with
``settle_info.profit_sharing`` becomes a ``Withdrawal`` of channel ``profit_sharing`` (the
ledger moves it available → in flight, at most what the promoter's balance holds: a debt is
netted first). An external outbox handler adds the promoters as receivers and sends one split
per order (``unfreeze_unsplit``: the rest is the merchant's at once). WeChat answers PROCESSING
with each receiver PENDING; the beat's query (``query_open_splits``) applies each receiver's
end: SUCCESS → paid out; CLOSED → the money returns to the balance (the promoter can then
withdraw it by transfer). A split WeChat refuses (order not split-enabled, past the freeze
limit) fails the same way: nothing is ever lost."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from mall.promoters import ledger
from mall.promoters.models import EntryKind, Promoter, Withdrawal, WithdrawalChannel, WithdrawalStatus
from mall.promoters.withdrawals import WITHDRAWAL_FSM, _finish

log = logging.getLogger(__name__)
S = WithdrawalStatus


def split_no_for(order) -> str:
    """The split's ``out_order_no``: the store and the order, letters and digits only."""
    from tenants.models import Tenant

    tenant_id = Tenant.objects.filter(schema_name=connection.schema_name).values_list("pk", flat=True).first() or 0
    return f"P{tenant_id:07d}O{order.pk:012d}"


def split_settled(*, rows: list[tuple[int, int, int]]) -> int:
    """``rows``: (promoter id, order id, settled fen) just settled. Called inside the settlement
    transaction; returns how many split withdrawals were made."""
    from mall.orders.models import Order

    per: dict[tuple[int, int], int] = defaultdict(int)
    for promoter_id, order_id, amount in rows:
        if amount > 0:
            per[(order_id, promoter_id)] += amount
    if not per:
        return 0
    split_orders = set(
        Order.objects.filter(pk__in={o for o, _p in per}, profit_sharing=True).values_list("pk", flat=True)
    )
    made = 0
    orders: set[int] = set()
    for (order_id, promoter_id), amount in sorted(per.items()):
        if order_id not in split_orders:
            continue
        p = Promoter.objects.select_for_update().select_related("customer").get(pk=promoter_id)
        if not p.customer.openid:  # an H5-only promoter has no WeChat account to split to:
            continue  # the commission stays in the balance, withdrawn once the mini-program is bound
        amount = min(amount, max(p.available_fen, 0))  # a debt is netted first
        if amount <= 0:
            continue
        w = Withdrawal.objects.create(
            promoter=p,
            channel=WithdrawalChannel.PROFIT_SHARING,
            order_id=order_id,
            amount_fen=amount,
            net_fen=amount,
            status=S.APPROVED,
            reviewed_at=timezone.now(),
        )
        ledger.append(
            promoter_id=p.pk, kind=EntryKind.WITHDRAWN, amount_fen=-amount, available=-amount, inflight=amount,
            withdrawal=w, order_id=order_id, note=_("结算分账"),
        )  # fmt: skip
        orders.add(order_id)
        made += 1
    for order_id in sorted(orders):
        outbox.record("mall.promoters.profit_sharing.send_split", order_id=order_id)
    return made


@outbox.handler(external=True)
def send_split(*, order_id: int) -> None:
    """Add the receivers and ask WeChat to split the order (no transaction open)."""
    from integrations.wechat.errors import WeChatPayError, WeChatUnavailable
    from integrations.wechat.pay import PayClient
    from mall.orders.models import Order
    from tenants.models import Tenant

    order = Order.objects.get(pk=order_id)
    ws = list(
        Withdrawal.objects.select_related("promoter__customer").filter(
            order=order, channel=WithdrawalChannel.PROFIT_SHARING, status=S.APPROVED
        )
    )
    if not ws:
        return
    payment = order.payments.filter(is_duplicate=False).order_by("paid_at", "pk").first()
    appid = Tenant.objects.filter(schema_name=connection.schema_name).values_list("wechat_appid", flat=True).first()
    client = PayClient(appid=appid or None)
    try:
        for w in ws:
            client.add_receiver(account=w.promoter.customer.openid, appid=appid or None)
        answer = client.profit_sharing_order(
            transaction_id=payment.transaction_id if payment else "",
            out_order_no=split_no_for(order),
            receivers=[
                {
                    "type": "PERSONAL_OPENID",
                    "account": w.promoter.customer.openid,
                    "amount": w.net_fen,
                    "description": str(_("推广佣金")),
                }
                for w in ws
            ],  # fmt: skip
            unfreeze_unsplit=True,
            appid=appid or None,
        )
    except WeChatUnavailable:
        raise  # retried by the outbox with the same out_order_no
    except WeChatPayError as exc:
        for w in ws:
            with transaction.atomic():
                locked = Withdrawal.objects.select_for_update().get(pk=w.pk)
                if locked.status == S.APPROVED:
                    _finish(locked, S.FAILED, failure=f"{exc.code}: {exc.message}"[:200])
        return
    apply_split(order_id=order.pk, answer=answer)


def apply_split(*, order_id: int, answer: dict) -> int:
    """Apply WeChat's word on a split (the create answer or a query): each receiver's result
    moves its withdrawal (PENDING → transferring; SUCCESS → paid out; CLOSED → returned).
    Replays change nothing. Returns how many withdrawals changed."""
    results = {r.get("account"): r for r in answer.get("receivers") or []}
    changed = 0
    with transaction.atomic():
        for w in (
            Withdrawal.objects.select_for_update()
            .select_related("promoter__customer")
            .filter(order_id=order_id, channel=WithdrawalChannel.PROFIT_SHARING)
        ):
            r = results.get(w.promoter.customer.openid)
            if r is None:
                continue
            if w.transfer_bill_no == "" and r.get("detail_id"):
                w.transfer_bill_no = r["detail_id"]
                w.save(update_fields=["transfer_bill_no"])
            result = r.get("result")
            if result == "PENDING" and w.status == S.APPROVED:
                WITHDRAWAL_FSM.move(w, S.TRANSFERRING)
                w.save(update_fields=["status"])
                changed += 1
            elif result == "SUCCESS" and w.status in (S.APPROVED, S.TRANSFERRING):
                _finish(w, S.SUCCESS)
                changed += 1
            elif result == "CLOSED" and w.status in (S.APPROVED, S.TRANSFERRING):
                _finish(w, S.FAILED, failure=str(r.get("fail_reason") or "CLOSED"))
                changed += 1
    return changed


def query_open_splits() -> int:
    """The beat: ask WeChat about splits still processing."""
    from integrations.wechat.errors import WeChatError
    from integrations.wechat.pay import PayClient
    from mall.orders.models import Order

    order_ids = set(
        Withdrawal.objects.filter(
            channel=WithdrawalChannel.PROFIT_SHARING, status__in=(S.APPROVED, S.TRANSFERRING)
        ).values_list("order_id", flat=True)
    )
    changed = 0
    for order in Order.objects.filter(pk__in=order_ids):
        payment = order.payments.filter(is_duplicate=False).order_by("paid_at", "pk").first()
        if payment is None:
            continue
        try:
            answer = PayClient().profit_sharing_query(transaction_id=payment.transaction_id,
                                                      out_order_no=split_no_for(order))  # fmt: skip
        except WeChatError as exc:
            log.warning("profit sharing query of order %s: %s", order.pk, exc)
            continue
        changed += apply_split(order_id=order.pk, answer=answer)
    return changed
