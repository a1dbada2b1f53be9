"""Beat tasks of the distribution engine, fanned out per store (``tenants.tasks.send_to_every_store``):
settle due commission (T+N, real track or redemption), ask WeChat about transfers still open
(a lost notify, a bill never confirmed), and move promoters up their grades."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import connection

from tenants.tasks import send_to_every_store

log = logging.getLogger(__name__)


def _in_store(name: str) -> bool:
    if connection.schema_name == "public":
        log.warning("%s sent outside a store: ignored", name)
        return False
    return True


@shared_task(name="promoters.run_distribution")
def run_distribution() -> dict:
    from mall.promoters.actions import check_grades
    from mall.promoters.commission import book_last_month_dividends, settle_due
    from mall.promoters.withdrawals import query_open_transfers

    if not _in_store("promoters.run_distribution"):
        return {}
    out = {"settled": settle_due(), "dividends": book_last_month_dividends(), "grades": check_grades()}
    from mall.promoters.profit_sharing import query_open_splits

    for key, query in (("transfers", query_open_transfers), ("splits", query_open_splits)):
        try:
            out[key] = query()
        except Exception as exc:  # WeChat unreachable or not configured: settle anyway, ask again next time
            log.warning("%s query failed: %s", key, exc)
            out[key] = None
    return out


@shared_task(name="promoters.run_distribution_everywhere")
def run_distribution_everywhere() -> int:
    return send_to_every_store(run_distribution, retry=False)
