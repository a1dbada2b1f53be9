"""A test-only subscriber of ``mall.orders.hooks.order_line_refunded`` (what the distribution
issue's commission claw-back will be): tests name it in ``ORDER_LINE_REFUNDED_HANDLERS``."""

from core import outbox

PROBE = "tests.mall.aftersales_probe.line_refunded"
CALLS: list[dict] = []  # runs delivered in this process


@outbox.handler
def line_refunded(*, line_id: int, refund_id: int, amount_fen: int, quantity: int) -> None:
    CALLS.append({"line_id": line_id, "refund_id": refund_id, "amount_fen": amount_fen, "quantity": quantity})
