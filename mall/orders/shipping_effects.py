"""Outbox handlers of shipping (run in the tenant's schema): subscribing a parcel at the
tracking API is a network call, so it runs with no transaction open (``external=True``);
subscribing twice is harmless, so a repeated run after a crash is too."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import connection

from core import outbox
from integrations.logistics.client import LogisticsClient
from integrations.logistics.errors import LogisticsError, LogisticsNotFound
from mall.orders import shipping
from mall.orders.models import Shipment

log = logging.getLogger(__name__)


def callback_url() -> str:
    """Where the carrier pushes this store's parcels: the platform host, with the tenant's id."""
    from tenants.models import Tenant

    tenant_id = Tenant.objects.only("pk").get(schema_name=connection.schema_name).pk
    return f"{settings.LOGISTICS_CALLBACK_BASE_URL.rstrip('/')}/logistics/notify/{tenant_id}/"


@outbox.handler(external=True)
def subscribe_shipment(*, shipment_id: int) -> None:
    shipment = Shipment.objects.filter(pk=shipment_id).first()
    if shipment is None or shipment.subscribed:
        return
    LogisticsClient().subscribe(carrier=shipment.carrier, tracking_no=shipment.tracking_no, callback_url=callback_url())
    shipping.mark_subscribed(shipment_id=shipment.pk)


def refresh_tracking(*, shipment_id: int) -> Shipment | None:
    """Ask the tracking API for a parcel's track now and apply it (no transaction open during
    the call). A parcel the carrier has no record of changes nothing."""
    shipment = Shipment.objects.filter(pk=shipment_id).first()
    if shipment is None:
        return None
    try:
        track = LogisticsClient().query(carrier=shipment.carrier, tracking_no=shipment.tracking_no)
    except LogisticsNotFound:
        return shipment
    return shipping.record_tracking(carrier=shipment.carrier, tracking_no=shipment.tracking_no, events=track.events)


def requery_silent_shipments(*, now: datetime | None = None) -> int:
    """Beat task body (per store): ask the carrier for the track of every parcel silent for
    ``TRACKING_REQUERY_HOURS`` (``shipping.silent_shipments``) and apply what it answers. One
    parcel at a time, no transaction open during a call; a carrier error is logged and that
    parcel is asked again after the next quiet period. Returns how many parcels were asked."""
    if not settings.LOGISTICS_API_BASE:
        return 0  # no tracking API configured: nothing to ask
    asked = 0
    for pk in shipping.silent_shipments(now=now):
        shipping.mark_checked(shipment_id=pk, now=now)
        asked += 1
        try:
            refresh_tracking(shipment_id=pk)
        except LogisticsError as exc:
            log.warning("tracking re-query of shipment %s failed: %s", pk, exc)
    return asked
