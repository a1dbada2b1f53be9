"""``{% load aftersales %}{% order_after_sales order %}``: the order detail's after-sales box
(open refunds, the one waiting for review first, each linked to its refund screen)."""

from django import template
from django.urls import reverse

from core.money import format_yuan
from mall.payments.models import OPEN_REFUND_STATES, RefundStatus

register = template.Library()


@register.inclusion_tag("payments/_order_after_sales.html", takes_context=True)
def order_after_sales(context, order):
    request = context.get("request")
    can_view = bool(request and request.user.has_perm("payments.view_refund"))
    rows = [
        {
            "no": r.out_refund_no,
            "kind": r.get_kind_display(),
            "status": r.status,
            "status_display": r.get_status_display(),
            "amount": format_yuan(r.amount_fen),
            "reason": r.reason,
            "pending": r.status == RefundStatus.PENDING_REVIEW,
            "url": reverse("refunds:inspect", args=[r.pk]) if can_view else "",
        }
        for r in order.refunds.filter(status__in=OPEN_REFUND_STATES).order_by("created", "pk")
    ]
    rows.sort(key=lambda row: not row["pending"])
    return {"open_refunds": rows}
