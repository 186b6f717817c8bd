"""Spreadsheet import and export shared by every app.

A file (.csv in UTF-8, a BOM tolerated, or .xlsx) is read into `Row`s that keep
their line numbers. Apps register an `Importer` and/or an `Exporter` per kind
("faqs", "quick-replies", later "orders" …) in a module named `tabular.py`;
the registry finds those modules the way the admin finds `admin.py`, once, when
it is first asked. `run_import` validates every row, upserts the good ones and
reports each bad one with its line, column and reason; with `atomic=True`
nothing is stored when any row is bad."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from django.db import transaction
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kefu.core.errors import ActionError

Outcome = Literal["created", "updated", "unchanged"]
FORMATS = ("csv", "xlsx")
MAX_ROWS = 100_000


class TableError(Exception):
    """The file as a whole cannot be used (format, encoding, columns)."""


class RowRejected(Exception):
    """One row is refused; `column` names the cell ("" for the whole row)."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


class Row:
    """One non-empty row: its line in the file (the header is line 1) and its
    cells in the header's order (`cells[i]` is column `header[i]`, "" when the
    row is short). `values`, the cells by column name, is built when asked for:
    batch importers may read `cells` by position instead."""

    __slots__ = ("line", "cells", "header", "_values")

    def __init__(
        self,
        line: int,
        values: dict[str, str] | None = None,
        *,
        cells: list[str] | None = None,
        header: list[str] | None = None,
    ) -> None:
        self.line = line
        if cells is None:
            values = dict(values or {})
            header, cells = list(values), list(values.values())
        self.cells = cells
        self.header = header if header is not None else []
        self._values = values

    @classmethod
    def of(cls, line: int, cells: list[str], header: list[str]) -> Row:
        """`Row(line, cells=cells, header=header)` without keyword handling: the
        reader makes one per line of a file."""
        row = object.__new__(cls)
        row.line, row.cells, row.header, row._values = line, cells, header, None
        return row

    @property
    def values(self) -> dict[str, str]:
        if self._values is None:
            self._values = {
                column: cell
                for column, cell in zip(self.header, self.cells, strict=False)
                if column
            }
        return self._values

    def get(self, column: str, default: str = "") -> str:
        return self.values.get(column, default)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Row):
            return NotImplemented
        return (self.line, self.values) == (other.line, other.values)

    def __repr__(self) -> str:
        return f"Row(line={self.line}, values={self.values!r})"


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        if self.column:
            return _("line %(line)d, column %(column)s: %(reason)s") % {
                "line": self.line,
                "column": self.column,
                "reason": self.reason,
            }
        return _("line %(line)d: %(reason)s") % {"line": self.line, "reason": self.reason}


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = True

    @property
    def rejected(self) -> int:
        return len({error.line for error in self.errors})

    def summary(self) -> str:
        return ngettext(
            "%(rows)d row: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
            "%(rejected)d rejected.",
            "%(rows)d rows: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
            "%(rejected)d rejected.",
            self.rows,
        ) % {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


@dataclass
class ImportContext:
    """What one import run knows: the shop, who imports (None = the system, from
    the command line) and identities already seen in this file."""

    shop: Any
    user: Any = None
    seen: dict[object, int] = field(default_factory=dict)
    # What an importer works out once per run (e.g. per header), by its own keys.
    memo: dict[object, Any] = field(default_factory=dict)

    def claim(self, identity: object, line: int, column: str) -> None:
        """Refuse a second row for the same record in one file."""
        first = self.seen.setdefault(identity, line)
        if first != line:
            raise RowRejected(column, _("The same record as line %(line)d.") % {"line": first})


class Importer:
    kind: str = ""
    help: str = ""
    columns: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    max_rows: int = MAX_ROWS
    # > 0: rows go to `import_rows` in batches of this size, each batch in one
    # savepoint, instead of one `import_row` per row.
    batch_size: int = 0

    def import_row(self, row: Row, context: ImportContext) -> Outcome:
        raise NotImplementedError

    def import_rows(
        self, rows: list[Row], context: ImportContext
    ) -> list[Outcome | list[RowError]]:
        """One result per row, in order: its outcome, or why it was refused (then
        nothing of it is stored)."""
        raise NotImplementedError


class Exporter:
    kind: str = ""
    help: str = ""
    columns: tuple[str, ...] = ()

    def rows(self, shop, ids: Iterable[int] | None = None) -> Iterable[Mapping[str, str]]:
        raise NotImplementedError


_importers: dict[str, Importer] = {}
_exporters: dict[str, Exporter] = {}
_discovered = False


def register(*items: Importer | Exporter) -> None:
    """Called at import time of an app's `tabular.py`, never later."""
    for item in items:
        target: dict[str, Any] = _importers if isinstance(item, Importer) else _exporters
        target[item.kind] = item


def _discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("tabular")
        _discovered = True


def importers() -> dict[str, Importer]:
    _discover()
    return dict(sorted(_importers.items()))


def exporters() -> dict[str, Exporter]:
    _discover()
    return dict(sorted(_exporters.items()))


def format_of(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise TableError(
            _("Unsupported file type “%(name)s”: use .csv or .xlsx.") % {"name": Path(name).name}
        )
    return suffix


# --- reading -------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _raw_rows(data: bytes, fmt: str) -> Iterable[tuple[int, list[str]]]:
    if fmt == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise TableError(
                _("The CSV file is not UTF-8 (byte %(position)d). Save it as “CSV UTF-8”.")
                % {"position": error.start}
            ) from None
        reader = csv.reader(io.StringIO(text, newline=""))
        previous_end = 0
        try:
            for record in reader:
                yield previous_end + 1, record
                previous_end = reader.line_num
        except csv.Error as error:
            raise TableError(
                _("The CSV file is malformed near line %(line)d: %(error)s")
                % {"line": reader.line_num, "error": error}
            ) from None
        return
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise TableError(_("The file is not a readable .xlsx workbook.")) from None
    try:
        sheet = workbook.worksheets[0]
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [_cell(value) for value in values]
    finally:
        workbook.close()


def read_table(data: bytes, name: str, max_rows: int = MAX_ROWS) -> tuple[list[str], list[Row]]:
    """The header (lowercased column names) and the non-empty rows."""
    fmt = format_of(name)
    header: list[str] | None = None
    rows: list[Row] = []
    append = rows.append
    join = "".join
    new_row = Row.of
    width = 0
    for line, record in _raw_rows(data, fmt):
        if header is None:
            header = [str(cell).strip().lower() for cell in record]
            while header and not header[-1]:
                header.pop()
            if not header:
                raise TableError(_("The first line must name the columns."))
            duplicates = sorted({c for c in header if header.count(c) > 1})
            if duplicates:
                raise TableError(
                    _("Columns named twice: %(columns)s.") % {"columns": ", ".join(duplicates)}
                )
            width = len(header)
            continue
        # Every cell is a str here: empty when no cell has more than whitespace
        # (the first cell decides for nearly every row).
        if not (record and record[0].strip()) and not join(record).strip():
            continue
        if len(rows) >= max_rows:
            raise TableError(_("Too many rows: at most %(limit)d.") % {"limit": max_rows})
        if len(record) < width:
            record = record + [""] * (width - len(record))
        append(new_row(line, record, header))
    if header is None:
        raise TableError(_("The file is empty."))
    return header, rows


def _check_columns(importer: Importer, header: list[str]) -> None:
    unknown = [c for c in header if c and c not in importer.columns]
    if unknown:
        raise TableError(
            _("Unknown columns: %(unknown)s. Known columns: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(importer.columns)}
        )
    missing = [c for c in importer.required if c not in header]
    if missing:
        raise TableError(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})


# --- running an import ----------------------------------------------------------------


def get_importer(kind: str) -> Importer:
    found = importers().get(kind)
    if found is None:
        raise TableError(
            _("Nothing imports “%(kind)s”. Kinds: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(importers())}
        )
    return found


def get_exporter(kind: str) -> Exporter:
    found = exporters().get(kind)
    if found is None:
        raise TableError(
            _("Nothing exports “%(kind)s”. Kinds: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(exporters())}
        )
    return found


def run_import(
    kind: str,
    data: bytes,
    name: str,
    *,
    shop,
    user=None,
    atomic: bool = False,
    progress: Callable[[int, int], None] | None = None,
    progress_every: int = 100,
) -> ImportReport:
    """Import one file. Each row is saved in its own savepoint, so a refused row
    leaves nothing behind; with `atomic`, any refused row rolls everything back."""
    importer = get_importer(kind)
    # Reading and storing makes millions of objects and no reference cycles
    # worth collecting: the cyclic garbage collector, run over and over on
    # them, would cost about a fifth of a large import. It runs again after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        header, rows = read_table(data, name, importer.max_rows)
        _check_columns(importer, header)
        report = ImportReport(kind=kind, rows=len(rows))
        context = ImportContext(shop=shop, user=user)
        _run(importer, rows, header, context, report, atomic, progress, progress_every)
    finally:
        if collecting:
            gc.enable()
    return report


def _run(importer, rows, header, context, report, atomic, progress, progress_every) -> None:
    with transaction.atomic():
        if importer.batch_size > 0:
            _import_batches(importer, rows, context, report, progress, progress_every)
        else:
            _import_each(importer, rows, header, context, report, progress, progress_every)
        if atomic and report.errors:
            transaction.set_rollback(True)
            report.committed = False
            report.created = report.updated = report.unchanged = 0


def _import_each(importer, rows, header, context, report, progress, progress_every) -> None:
    for done, row in enumerate(rows, start=1):
        try:
            with transaction.atomic():
                outcome = importer.import_row(row, context)
        except RowRejected as error:
            report.errors.append(RowError(row.line, error.column, error.reason))
        except ActionError as error:
            column = getattr(error, "field", "")
            report.errors.append(
                RowError(row.line, column if column in header else "", error.message)
            )
        else:
            setattr(report, outcome, getattr(report, outcome) + 1)
        if progress and (done % progress_every == 0 or done == len(rows)):
            progress(done, len(rows))


def _import_batches(importer, rows, context, report, progress, progress_every) -> None:
    size = importer.batch_size
    reported = 0
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        with transaction.atomic():
            results = importer.import_rows(batch, context)
        outcomes: Counter[str] = Counter()
        for result in results:
            if type(result) is list:
                report.errors.extend(result)
            else:
                outcomes[result] += 1
        for outcome, count in outcomes.items():
            setattr(report, outcome, getattr(report, outcome) + count)
        done = start + len(batch)
        if progress and (done // progress_every > reported // progress_every or done == len(rows)):
            progress(done, len(rows))
            reported = done


# --- writing ---------------------------------------------------------------------------


def write_table(
    stream: IO[bytes], fmt: str, columns: Iterable[str], rows: Iterable[Mapping[str, str]]
) -> int:
    """Write a header and the rows; returns the number of rows. CSV is UTF-8
    with a BOM (so Excel shows Chinese right) and CRLF line ends."""
    columns = list(columns)
    count = 0
    if fmt == "csv":
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(column, "") for column in columns])
            count += 1
        text.flush()
        text.detach()
        return count
    if fmt != "xlsx":
        raise TableError(_("Unsupported format: %(format)s.") % {"format": fmt})
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(column, "") for column in columns])
        count += 1
    workbook.save(stream)
    return count


def export_table(kind: str, stream: IO[bytes], fmt: str, *, shop, ids=None, actor=None) -> int:
    """Write the shop's records of `kind`; the export is written to the audit
    log (who, which shop, what, how many rows; `actor` None = the system)."""
    from kefu.compliance import audit

    exporter = get_exporter(kind)
    count = write_table(stream, fmt, exporter.columns, exporter.rows(shop, ids))
    audit.record_export(actor, kind, shop.id, count)
    return count


def shop_for(slug: str | None):
    """The shop a command works on: `--shop SLUG`, or the only shop there is."""
    from kefu.accounts.models import Shop

    if slug:
        shop = Shop.objects.filter(slug=slug).first()
        if shop is None:
            raise TableError(_("No shop with the slug “%(slug)s”.") % {"slug": slug})
        return shop
    shops = list(Shop.objects.order_by("id")[:2])
    if len(shops) != 1:
        raise TableError(
            _("There are several shops: choose one with --shop SLUG.")
            if shops
            else _("There is no shop yet.")
        )
    return shops[0]
