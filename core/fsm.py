"""One way to write a state machine (house rule 3).

A model's lifecycle is declared once, as a ``StateMachine`` next to its status choices::

    ORDER_FSM = StateMachine(OrderStatus, {OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, ...}, ...})

Actions move an instance with ``ORDER_FSM.move(order, to)``: an illegal transition raises a
translated, field-level ``ValidationError`` (on ``status``), never a silent no-op. Staying in
the same state is a transition too: allowed only where it is declared (``{S: {S}}``). The status
field itself is ``editable=False`` on every model that uses a machine, so no form can set it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _


class StateMachine:
    def __init__(
        self,
        choices: type[models.TextChoices],
        transitions: Mapping[str, Iterable[str]],
        *,
        field: str = "status",
        subject: str = "",
    ) -> None:
        self.choices = choices
        self.field = field
        self.subject = subject
        self.transitions: dict[str, frozenset[str]] = {str(k): frozenset(map(str, v)) for k, v in transitions.items()}
        unknown = (set(self.transitions) | {t for v in self.transitions.values() for t in v}) - set(choices.values)
        if unknown:
            raise ValueError(f"unknown states in transitions: {sorted(unknown)}")
        missing = set(choices.values) - set(self.transitions)
        if missing:
            raise ValueError(f"states without a transitions entry: {sorted(missing)}")

    def __getitem__(self, state: str) -> frozenset[str]:
        return self.transitions[str(state)]

    def targets(self, state: str) -> frozenset[str]:
        return self.transitions[str(state)]

    def can(self, state: str, to: str) -> bool:
        return str(to) in self.transitions.get(str(state), frozenset())

    def is_final(self, state: str) -> bool:
        return not self.transitions[str(state)]

    def label(self, state: str) -> str:
        try:
            return str(self.choices(state).label)
        except ValueError:
            return str(state)

    def check(self, state: str, to: str) -> None:
        if str(to) not in self.choices.values:
            raise ValidationError(
                {self.field: ValidationError(_("未知的状态：%(s)s") % {"s": to}, code="unknown_state")}
            )
        if not self.can(state, to):
            raise ValidationError(
                {
                    self.field: ValidationError(
                        _("%(subject)s不能从“%(a)s”变为“%(b)s”。")
                        % {"subject": self.subject, "a": self.label(state), "b": self.label(to)},
                        code="illegal_transition",
                    )
                }
            )

    def move(self, instance: models.Model, to: str) -> str:
        """Check ``instance``'s current state → ``to`` and set it; returns the previous state.
        The caller saves (inside its transaction, on a row it locked)."""
        current = getattr(instance, self.field)
        self.check(current, to)
        setattr(instance, self.field, str(to))
        return current
