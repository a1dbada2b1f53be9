"""Streamed XLSX exports (orders, products): rows go through openpyxl's write-only workbook, which
keeps each sheet in a temporary file on disk as it is written, then the workbook is zipped into
an anonymous temporary file that ``FileResponse`` streams in chunks and closes (deleting it).
Memory stays flat however many rows there are; read the rows with ``QuerySet.iterator``.

Cells are typed: money is a number in yuan with two decimals (``Decimal``, never a float),
times are shown in Asia/Shanghai, text is text (a value starting with ``=`` stays text: no
formula from user input).

An admin listing gets an "导出 Excel" button and ``?export=xlsx`` with ``XlsxExportMixin``: the
export is the listing's own queryset (its filters, search and ordering), unpaginated."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from core.money import to_yuan

SHANGHAI = ZoneInfo("Asia/Shanghai")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class Col:
    """One column: its (Chinese) header, how to read the value from a row object, and its type:
    ``text``, ``int``, ``money`` (integer fen → yuan), ``datetime`` or ``date``."""

    header: str
    value: Callable[[object], object]
    kind: str = "text"
    width: int = 14


def _cell(ws, kind: str, value):
    from openpyxl.cell import WriteOnlyCell

    if value is None or value == "":
        return WriteOnlyCell(ws, value=None)
    if kind == "money":
        cell = WriteOnlyCell(ws, value=to_yuan(int(value)))
        cell.number_format = MONEY_FORMAT
        return cell
    if kind == "datetime" and isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(SHANGHAI).replace(tzinfo=None)
        cell = WriteOnlyCell(ws, value=value.replace(microsecond=0))
        cell.number_format = DATETIME_FORMAT
        return cell
    if kind == "date" and isinstance(value, dt.date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if kind == "int" or isinstance(value, int | Decimal):
        return WriteOnlyCell(ws, value=value)
    cell = WriteOnlyCell(ws, value=str(value))
    if cell.data_type == "f":  # "=…" from user input is text, never a formula
        cell.data_type = "s"
    return cell


def write_xlsx(fileobj, *, title: str, columns: Sequence[Col], rows: Iterable[object]) -> int:
    """Write ``rows`` (any objects; each column reads its value) to ``fileobj``; returns the
    number of data rows written."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=str(title)[:31])
    for i, col in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "A2"
    ws.append([str(col.header) for col in columns])
    count = 0
    for row in rows:
        ws.append([_cell(ws, col.kind, col.value(row)) for col in columns])
        count += 1
    wb.save(fileobj)
    return count


def xlsx_response(*, filename: str, title: str, columns: Sequence[Col], rows: Iterable[object]) -> FileResponse:
    """A download of the rows as ``<filename>-<yyyymmdd-hhmm>.xlsx``, streamed from a temporary file."""
    tmp = tempfile.TemporaryFile(suffix=".xlsx")
    write_xlsx(tmp, title=title, columns=columns, rows=rows)
    tmp.seek(0)
    stamp = timezone.now().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")
    return FileResponse(tmp, as_attachment=True, filename=f"{filename}-{stamp}.xlsx", content_type=XLSX_TYPE)


class XlsxExportMixin:
    """For a Wagtail ``IndexView``: ``?export=xlsx`` answers the listing's queryset (filters,
    search, ordering; no pagination) as a streamed XLSX, to users holding ``export_permission``
    (others get 403); the header gets a "导出 Excel" button for them.

    Set ``export_permission``, ``export_filename``, ``export_title`` and implement
    ``export_columns()``; ``export_rows(queryset)`` may add select_related / annotations (keep
    ``iterator``)."""

    export_permission = ""
    export_filename = "export"
    export_title = ""
    export_chunk_size = 2000

    def export_columns(self) -> list[Col]:
        raise NotImplementedError

    def export_rows(self, queryset):
        return queryset.iterator(chunk_size=self.export_chunk_size)

    def can_export(self) -> bool:
        return bool(self.export_permission) and self.request.user.has_perm(self.export_permission)

    def get(self, request, *args, **kwargs):
        if "export" in request.GET:
            if not self.can_export():
                raise PermissionDenied
            return xlsx_response(
                filename=self.export_filename,
                title=str(self.export_title or self.export_filename),
                columns=self.export_columns(),
                rows=self.export_rows(self.get_queryset()),
            )
        return super().get(request, *args, **kwargs)

    @cached_property
    def show_export_buttons(self):
        return False  # Wagtail's own CSV/XLSX buttons: replaced by ours

    @cached_property
    def header_more_buttons(self):
        from wagtail.admin.widgets.button import Button

        buttons = list(super().header_more_buttons)
        if self.can_export():
            params = self.request.GET.copy()
            params.pop("p", None)
            params["export"] = "xlsx"
            url = self.request.path + "?" + params.urlencode()
            buttons.append(Button(_("导出 Excel"), url=url, icon_name="download", priority=90))
        return buttons
