"""What a WeChat Pay notify means for a store: called by ``mall.payments.views`` inside
the tenant's schema, after the notify's signature was verified and its resource decrypted.
Returns an outcome word for the inbound log; raises nothing for a bad notify.

Every verified notify is acknowledged (``mall.payments.views``), also one we refuse: WeChat
retries an unacknowledged notify for ~24 h with the same content, which would change nothing.
A refused amount is recorded as a ``PaymentAnomaly`` the merchant sees (by ``record_payment``),
not left to the retries."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError

from mall.orders.actions import record_payment
from mall.payments.actions import parse_wechat_time, record_refund_result

log = logging.getLogger(__name__)


def _codes(exc: ValidationError) -> str:
    codes = (
        [e.code or "invalid" for errors in exc.error_dict.values() for e in errors]
        if hasattr(exc, "error_dict")
        else []
    )
    return ",".join(codes) or "invalid"


def payment_succeeded(*, order_no: str, resource: dict) -> str:
    if resource.get("trade_state") != "SUCCESS":
        return "ignored_state"
    try:
        payment = record_payment(
            order_no=order_no,
            transaction_id=str(resource.get("transaction_id", "")),
            amount_fen=int((resource.get("amount") or {}).get("total", 0)),
            paid_at=parse_wechat_time(resource.get("success_time")),
        )
    except ValidationError as exc:
        log.error("payment notify for order %s refused: %s", order_no, exc.messages)
        return "refused:" + _codes(exc)
    if payment.is_duplicate:  # recorded, flagged and refunded automatically (record_payment)
        return "ok:duplicate_refunded"
    return "ok"


def refund_finished(*, resource: dict) -> str:
    try:
        record_refund_result(
            out_refund_no=str(resource.get("out_refund_no", "")),
            refund_id=str(resource.get("refund_id", "")),
            wechat_status=str(resource.get("refund_status", "")),
            amount_fen=int((resource.get("amount") or {}).get("refund", 0)),
        )
    except ValidationError as exc:
        log.error("refund notify %s refused: %s", resource.get("out_refund_no"), exc.messages)
        return "refused:" + _codes(exc)
    return "ok"
