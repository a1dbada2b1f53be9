"""Read queries of the distribution engine (house rule 1): the promoter centre (D1), the team,
commission details, and the console's figures."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from mall.promoters.models import LineCommission, Promoter, Withdrawal


def team_counts(promoter: Promoter) -> dict[str, int]:
    """Direct invitees who are promoters (level 1) and their own invitees (level 2): never deeper."""
    direct = Promoter.objects.filter(parent=promoter).count()
    second = Promoter.objects.filter(parent__parent=promoter).count()
    return {"level1": direct, "level2": second, "total": direct + second}


def team(promoter: Promoter) -> QuerySet[Promoter]:
    """The two-level downline, level 1 first (annotated with ``level``)."""
    from django.db.models import Case, IntegerField, Value, When

    return (
        Promoter.objects.filter(Q(parent=promoter) | Q(parent__parent=promoter))
        .select_related("customer", "grade")
        .annotate(level=Case(When(parent=promoter, then=Value(1)), default=Value(2), output_field=IntegerField()))
        .order_by("level", "-joined_at", "-pk")
    )


def commissions_of(promoter: Promoter) -> QuerySet[LineCommission]:
    return LineCommission.objects.filter(promoter=promoter).select_related("order", "line").order_by("-created", "-pk")


def withdrawals_of(promoter: Promoter) -> QuerySet[Withdrawal]:
    return Withdrawal.objects.filter(promoter=promoter).order_by("-created", "-pk")


def promoter_list() -> QuerySet[Promoter]:
    """The console's promoter list with team size (levels 1 and 2)."""
    return Promoter.objects.select_related("customer", "grade", "parent__customer").annotate(
        team_l1=Count("children", distinct=True),
        team_l2=Count("children__children", distinct=True),
    )
