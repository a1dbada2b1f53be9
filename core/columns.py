"""Wagtail listing columns that show money, rates and booleans as people read them
(``¥1,234.50``, ``10.5%``, 是/否 icons). Use them in a viewset's ``list_display``::

    list_display = ["title", MoneyColumn("price_fen", label=_("价格")), BoolColumn("on_shelf", label=_("上架"))]
"""

from __future__ import annotations

from wagtail.admin.ui.tables import BooleanColumn, Column

from core.money import format_bps, format_yuan


class _FormattedIntColumn(Column):
    """An integer field shown through ``formatter``; sortable by the field."""

    formatter = staticmethod(str)

    def __init__(self, name, **kwargs):
        kwargs.setdefault("sort_key", name)
        super().__init__(name, **kwargs)

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        raw = context["raw_value"]
        context["value"] = self.formatter(raw) if isinstance(raw, int) else self.empty_value_display
        return context


class MoneyColumn(_FormattedIntColumn):
    """Integer fen shown as ``¥39.90`` (thousands separators)."""

    formatter = staticmethod(format_yuan)


class PercentColumn(_FormattedIntColumn):
    """Integer basis points shown as ``10.5%``."""

    formatter = staticmethod(format_bps)


class BoolColumn(BooleanColumn):
    """A tick or a cross, labelled 是/否 (templates/wagtailadmin/tables/boolean_cell.html)."""

    def __init__(self, name, **kwargs):
        kwargs.setdefault("sort_key", name)
        super().__init__(name, **kwargs)
