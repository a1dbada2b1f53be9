"""Shopper tags: manual ones through the actions, rule ones ("frequent buyer" = N paid orders in
the last 90 days) recomputed by ``recompute_rule_tags`` (the beat task's action)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import schema_context

from mall.customers.actions import recompute_rule_tags, tag_customer, untag_customer
from mall.customers.models import CustomerTag, CustomerTagging, TagRule
from mall.orders.actions import cancel_order, place_order, record_payment
from tests.factories import CustomerFactory, ProductFactory, home


def _order(customer, product, *, paid_days_ago: float | None):
    order = place_order(customer=customer, address=home(customer), items=[(product.pk, 1)])
    if paid_days_ago is not None:
        record_payment(
            order_no=order.order_no,
            transaction_id=f"t-tag-{uuid.uuid4().hex}",
            amount_fen=order.total_fen,
            paid_at=timezone.now() - dt.timedelta(days=paid_days_ago),
        )
    return order


def _holders(tag, *, by_rule=None) -> set[int]:
    qs = CustomerTagging.objects.filter(tag=tag)
    if by_rule is not None:
        qs = qs.filter(by_rule=by_rule)
    return set(qs.values_list("customer_id", flat=True))


def test_frequent_buyers_are_tagged_by_the_rule_and_older_or_unpaid_orders_do_not_count(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        tag = CustomerTag.objects.create(name="常购", rule=TagRule.FREQUENT_BUYER, rule_value=3)
        product = ProductFactory(stock=100)
        loyal, old, unpaid, cancelled, manual = (CustomerFactory() for _ in range(5))
        for days in (1, 30, 89):
            _order(loyal, product, paid_days_ago=days)
        for days in (1, 91, 200):  # two of three are older than 90 days
            _order(old, product, paid_days_ago=days)
        for _ in range(3):
            _order(unpaid, product, paid_days_ago=None)
        for days in (1, 2):
            _order(cancelled, product, paid_days_ago=days)
        cancel_order(order=_order(cancelled, product, paid_days_ago=None), reason="不要了")
        by_hand = CustomerTag.objects.create(name="老朋友")
        tag_customer(customer=manual, tag=by_hand)

        assert recompute_rule_tags() == {"added": 1, "removed": 0}
        assert _holders(tag) == {loyal.pk}
        assert _holders(tag, by_rule=True) == {loyal.pk}
        assert _holders(by_hand) == {manual.pk}  # manual tags untouched

        assert recompute_rule_tags() == {"added": 0, "removed": 0}  # idempotent

        # 60 days later two of loyal's orders are older than 90 days: the rule drops the tag.
        later = timezone.now() + dt.timedelta(days=60)
        assert recompute_rule_tags(now=later) == {"added": 0, "removed": 1}
        assert _holders(tag) == set()
        assert _holders(by_hand) == {manual.pk}


def test_the_rule_never_removes_a_manual_tagging_of_the_same_tag(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        tag = CustomerTag.objects.create(name="熟客")
        shopper = CustomerFactory()
        tag_customer(customer=shopper, tag=tag)
        tag.rule, tag.rule_value = TagRule.FREQUENT_BUYER, 1  # the merchant turns it into a rule tag
        tag.save()
        assert recompute_rule_tags() == {"added": 0, "removed": 0}
        assert CustomerTagging.objects.get(tag=tag, customer=shopper).by_rule is False


def test_a_tag_whose_rule_is_dropped_loses_its_automatic_holders(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        tag = CustomerTag.objects.create(name="回头客", rule=TagRule.FREQUENT_BUYER, rule_value=1)
        shopper = CustomerFactory()
        _order(shopper, ProductFactory(), paid_days_ago=1)
        recompute_rule_tags()
        assert _holders(tag) == {shopper.pk}
        tag.rule = TagRule.MANUAL
        tag.save()
        assert recompute_rule_tags() == {"added": 0, "removed": 1}
        assert _holders(tag) == set()


def test_manual_tagging_is_idempotent_and_rule_tags_refuse_manual_changes(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        shopper = CustomerFactory()
        vip = CustomerTag.objects.create(name="VIP")
        rule = CustomerTag.objects.create(name="常购客", rule=TagRule.FREQUENT_BUYER)
        first = tag_customer(customer=shopper, tag=vip)
        assert tag_customer(customer=shopper, tag=vip).pk == first.pk
        assert _holders(vip) == {shopper.pk}
        with pytest.raises(ValidationError) as exc:
            tag_customer(customer=shopper, tag=rule)
        assert "规则标签" in exc.value.message_dict["tag"][0]
        with pytest.raises(ValidationError):
            untag_customer(customer=shopper, tag=rule)
        untag_customer(customer=shopper, tag=vip)
        assert _holders(vip) == set()
        with pytest.raises(ValidationError) as exc:
            untag_customer(customer=shopper, tag=vip)
        assert "没有" in exc.value.message_dict["tag"][0]


def test_the_beat_task_fans_out_to_every_store(tenant_a, tenant_b, db, settings):
    """The fan-out sends one task per store; run eagerly, each recomputes in its own schema."""
    from mall.customers import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        tags = {}
        for tenant in (tenant_a, tenant_b):
            with schema_context(tenant.schema_name):
                tag = CustomerTag.objects.create(name="常购fan", rule=TagRule.FREQUENT_BUYER, rule_value=1)
                shopper = CustomerFactory()
                _order(shopper, ProductFactory(), paid_days_ago=1)
                tags[tenant.schema_name] = (tag, shopper)
        with schema_context("public"):
            assert tasks.recompute_rule_tags_everywhere() >= 2
        for schema, (tag, shopper) in tags.items():
            with schema_context(schema):
                assert _holders(tag, by_rule=True) == {shopper.pk}
    finally:
        app.conf.task_always_eager = False
    with schema_context("public"):
        assert tasks.recompute_rule_tags_task() == {}  # never in the platform's schema


def test_the_beat_schedule_has_the_rule_tag_task(settings):
    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "customers.recompute_rule_tags_everywhere"
    )
    from config.celery import app

    assert "customers.recompute_rule_tags_everywhere" in app.tasks
    assert entry["schedule"] > 0
