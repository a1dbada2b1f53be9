import pytest
from django.core.exceptions import FieldError, ValidationError
from django.db import models

from core.fsm import StateMachine
from mall.orders.models import ORDER_FSM, OrderStatus
from mall.payments.models import REFUND_FSM, RefundStatus
from saas_platform.review.models import DOCUMENT_FSM
from tenants.models import TENANT_FSM


class Light(models.TextChoices):
    RED = "red", "红"
    GREEN = "green", "绿"


def test_a_machine_refuses_an_undeclared_transition_with_a_field_error():
    fsm = StateMachine(Light, {Light.RED: {Light.GREEN}, Light.GREEN: set()}, subject="灯")

    class Thing:
        status = Light.RED

    thing = Thing()
    assert fsm.move(thing, Light.GREEN) == Light.RED and thing.status == Light.GREEN
    with pytest.raises(ValidationError) as err:
        fsm.move(thing, Light.RED)
    assert err.value.message_dict == {"status": ["灯不能从“绿”变为“红”。"]}
    assert err.value.error_dict["status"][0].code == "illegal_transition"
    with pytest.raises(ValidationError):
        fsm.move(thing, Light.GREEN)  # staying put is a transition too, and not declared here
    with pytest.raises(ValidationError):
        fsm.check(Light.RED, "blue")


def test_a_machine_must_name_every_state():
    with pytest.raises(ValueError):
        StateMachine(Light, {Light.RED: {Light.GREEN}})
    with pytest.raises(ValueError):
        StateMachine(Light, {Light.RED: {"blue"}, Light.GREEN: set()})


def test_every_lifecycle_uses_the_one_machine():
    for fsm in (ORDER_FSM, REFUND_FSM, DOCUMENT_FSM, TENANT_FSM):
        assert isinstance(fsm, StateMachine)
    assert "after_sales" not in OrderStatus.values  # a refund is the after-sales record
    assert ORDER_FSM.is_final(OrderStatus.COMPLETED) and ORDER_FSM.is_final(OrderStatus.CANCELLED)
    for final in (RefundStatus.SUCCESS, RefundStatus.CLOSED, RefundStatus.REJECTED):
        assert REFUND_FSM.is_final(final)


@pytest.mark.parametrize(
    ("model", "field"),
    [
        ("mall.orders.models.Order", "status"),
        ("mall.orders.models.Order", "paid_fen"),
        ("mall.payments.models.Refund", "status"),
        ("mall.promoters.models.Promoter", "status"),
        ("saas_platform.review.models.QualificationDocument", "status"),
        ("tenants.models.Tenant", "status"),
    ],
)
def test_a_status_is_never_a_form_field(model, field):
    from django.forms import modelform_factory
    from django.utils.module_loading import import_string

    cls = import_string(model)
    assert not cls._meta.get_field(field).editable
    with pytest.raises(FieldError):  # Django refuses to build a form with it
        modelform_factory(cls, fields=[field])
