"""``{% order_shipments %}``: the order detail's parcels section (templates/orders/shipments.html)."""

from django import template
from django.db.models import Prefetch

from integrations.logistics import carriers
from mall.orders.models import Shipment, ShipmentLine

register = template.Library()


@register.inclusion_tag("orders/shipments.html", takes_context=True)
def order_shipments(context, order):
    from mall.orders.console_shipping import can_ship

    request = context.get("request")
    shipments = list(
        Shipment.objects.filter(order=order)
        .prefetch_related(Prefetch("lines", queryset=ShipmentLine.objects.select_related("line")), "events")
        .order_by("pk")
    )
    for s in shipments:
        s.carrier_name = carriers.name(s.carrier)
    return {
        "order": order,
        "shipments": shipments,
        "no_real_track": bool(shipments) and not order.has_real_track,
        "can_ship": request is not None and can_ship(request.user, order),
    }
