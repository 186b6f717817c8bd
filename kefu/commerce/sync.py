"""The one upsert of a shop's orders, items, payments and shipment events, keyed
by the shop's own ids; the spreadsheet import (`commerce/tabular.py`) and the
JSON API (`commerce/api_sync.py`) both call it.

A record is cleaned first (`prepare`: every field checked, datetimes without an
offset read in the shop's time zone), then stored in batches (`store`): one
query fetches the records that exist, new ones are inserted with one
`executemany`, changed ones written with one `executemany` UPDATE. Precedence: the
record with the later source `updated_at` wins; on a tie the later lifecycle
state (orders, payments); otherwise the stored record stays, so a repeated or
late delivery never undoes a newer state."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.db import connection, models
from django.utils.translation import gettext as _

from kefu.customers.models import CustomerIdentity, IdentityKind

from .models import (
    PAYMENT_RANK,
    PRODUCT_FLAGS,
    STATUS_RANK,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    Product,
    Shipment,
    TrackingEvent,
)

Outcome = Literal["created", "updated", "unchanged", "ignored_older"]
KINDS = ("orders", "items", "payments", "shipments")
BATCH_SIZE = 2000  # records per store() call from the import
MAX_API_RECORDS = 1000
MONEY_LIMIT = Decimal("10000000000")  # 12 digits, 2 after the point
CENT = Decimal("0.01")

ORDER_COLUMNS = (
    "order_id",
    "buyer_account",
    "status",
    "total",
    "paid_amount",
    "ordered_at",
    "paid_at",
    "ship_by",
    "shipped_at",
    "delivered_at",
    "receiver_name",
    "receiver_phone",
    "receiver_address",
    "invoice_type",
    "invoice_title",
    "invoice_tax_id",
    "note",
    "updated_at",
)
ITEM_COLUMNS = (
    "order_id",
    "item_id",
    "product_id",
    "name",
    "spec",
    "category",
    "flags",
    "quantity",
    "unit_price",
    "paid_amount",
    "updated_at",
)
PAYMENT_COLUMNS = ("order_id", "payment_id", "method", "amount", "status", "paid_at", "updated_at")
SHIPMENT_COLUMNS = (
    "order_id",
    "courier",
    "tracking_number",
    "shipped_at",
    "delivered_at",
    "event_time",
    "event_status",
    "event_location",
    "event_description",
    "updated_at",
)
COLUMNS = {
    "orders": ORDER_COLUMNS,
    "items": ITEM_COLUMNS,
    "payments": PAYMENT_COLUMNS,
    "shipments": SHIPMENT_COLUMNS,
}
# Columns a file must have; other columns may be left out, and then existing
# records keep that field (new records take its default).
REQUIRED = {
    "orders": ("order_id", "updated_at"),
    "items": ("order_id", "item_id", "updated_at"),
    "payments": ("order_id", "payment_id", "updated_at"),
    "shipments": ("order_id", "courier", "tracking_number", "updated_at"),
}
# Fields a record must fill when it creates the record.
REQUIRED_FOR_NEW = {
    "orders": ("buyer_account", "ordered_at"),
    "items": ("name",),
    "payments": ("amount",),
    "shipments": (),
}

_TEXT_LIMITS = {
    "order_id": 64,
    "item_id": 64,
    "payment_id": 64,
    "product_id": 64,
    "buyer_account": 255,
    "receiver_name": 120,
    "receiver_phone": 40,
    "receiver_address": 400,
    "invoice_type": 40,
    "invoice_title": 200,
    "invoice_tax_id": 40,
    "note": 4000,
    "name": 200,
    "spec": 200,
    "category": 64,
    "method": 40,
    "courier": 40,
    "tracking_number": 64,
    "event_status": 40,
    "event_location": 120,
    "event_description": 400,
}
_TIMES = frozenset(
    ("ordered_at", "paid_at", "ship_by", "shipped_at", "delivered_at", "event_time", "updated_at")
)
_MONEY = frozenset(("total", "paid_amount", "unit_price", "amount"))
_KEYS = frozenset(("order_id", "item_id", "payment_id", "courier", "tracking_number", "updated_at"))


class Invalid(Exception):
    """A record refused; `errors` holds (field, reason) pairs ("" = the record)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(reason for _field, reason in errors))
        self.errors = errors


Record = dict[str, Any]


# --- cleaning ------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float | Decimal):
        return str(value)
    raise ValueError


def parse_time(value: object, zone: dt.tzinfo) -> dt.datetime | None:
    """ISO-8601; without an offset, the shop's time zone. Stored in UTC."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = _text(value)
        if not text:
            return None
        moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)


def parse_money(value: object) -> Decimal | None:
    text = _text(value).replace(",", "")
    if not text:
        return None
    amount = Decimal(text)
    if not amount.is_finite() or amount < 0 or amount >= MONEY_LIMIT:
        raise ValueError
    cents = amount.quantize(CENT)
    if cents != amount:
        raise ValueError
    return cents


def parse_flags(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        items = [_text(item).lower() for item in value]
    else:
        items = [item.strip().lower() for item in _text(value).replace("，", ",").split(",")]
    flags = [item for item in items if item]
    unknown = [flag for flag in flags if flag not in PRODUCT_FLAGS]
    if unknown:
        raise ValueError(", ".join(unknown))
    return sorted(set(flags), key=PRODUCT_FLAGS.index)


def _field_error(field: str, value: object) -> str:
    if field in _TIMES:
        return _("Not a date and time (ISO-8601, e.g. 2024-05-01T10:30:00+08:00).")
    if field in _MONEY:
        return _("Not an amount: use a number ≥ 0 with at most 2 decimals, e.g. 59.90.")
    if field == "quantity":
        return _("The quantity must be a whole number from 1.")
    if field == "flags":
        return _("Unknown flags: %(flags)s. Known flags: %(known)s.") % {
            "flags": value,
            "known": ", ".join(PRODUCT_FLAGS),
        }
    return _("Not a text value.")


def _parse_quantity(value: object, zone: dt.tzinfo) -> int | None:
    text = _text(value)
    if not text:
        return None
    quantity = int(text)
    if not 1 <= quantity <= 1_000_000:
        raise ValueError
    return quantity


def _parser(field: str) -> Callable[[object, dt.tzinfo], object]:
    if field in _TIMES:
        return parse_time
    if field in _MONEY:
        return lambda value, zone: parse_money(value)
    if field == "flags":
        return lambda value, zone: parse_flags(value)
    if field == "quantity":
        return _parse_quantity
    return lambda value, zone: value.strip() if type(value) is str else _text(value)


def _empty(field: str) -> object:
    if field in _TIMES or field in _MONEY or field == "quantity":
        return None
    return [] if field == "flags" else ""


_PARSERS = {
    kind: [(field, _parser(field), _TEXT_LIMITS.get(field, 0), _empty(field)) for field in columns]
    for kind, columns in COLUMNS.items()
}
_COLUMN_SETS = {kind: frozenset(columns) for kind, columns in COLUMNS.items()}


def prepare(kind: str, values: Mapping[str, object], zone: dt.tzinfo) -> Record:
    """A clean record of `kind` from one row or JSON object; raises Invalid
    naming every bad field. Fields absent from `values` are absent from the result."""
    errors: list[tuple[str, str]] = []
    record: Record = {}
    known = _COLUMN_SETS[kind]
    for key in values:
        if key not in known:
            errors.append((str(key), _("Unknown field.")))
    for field, parse, limit, empty in _PARSERS[kind]:
        if field not in values:
            continue
        raw = values[field]
        if raw == "" or raw is None:
            record[field] = [] if field == "flags" else empty
            continue
        try:
            value = parse(raw, zone)
        except (ValueError, TypeError, InvalidOperation, OverflowError) as error:
            errors.append((field, _field_error(field, error.args[0] if error.args else raw)))
            continue
        if limit and len(value) > limit:  # type: ignore[arg-type]
            errors.append((field, _("Too long: at most %(limit)d characters.") % {"limit": limit}))
            continue
        record[field] = value
    for field in REQUIRED[kind]:
        if not record.get(field) and not any(name == field for name, _reason in errors):
            errors.append((field, _("Required.")))
    status = record.get("status")
    if status and kind == "orders" and status not in STATUS_RANK:
        errors.append(("status", _choices_error(OrderStatus.values)))
    if status and kind == "payments" and status not in PAYMENT_RANK:
        errors.append(("status", _choices_error(PaymentStatus.values)))
    if kind == "shipments" and bool(record.get("event_time")) != bool(record.get("event_status")):
        missing = "event_status" if record.get("event_time") else "event_time"
        errors.append((missing, _("A tracking event needs both event_time and event_status.")))
    if errors:
        raise Invalid(errors)
    return record


_MONEY_TEXT = re.compile(r"[0-9]{1,10}\.[0-9][0-9]")  # already in cents, < MONEY_LIMIT


def cleaner(
    kind: str, columns: Sequence[str], zone: dt.tzinfo
) -> Callable[[Sequence[str]], Record]:
    """`prepare` compiled for one file: a function from a row's cells (strings in
    the order of `columns`, the file's header) to the same record `prepare` gives
    for `dict(zip(columns, cells))`. The usual cells take a short path; anything
    else (a bad or unusual value, a missing required field) goes through
    `prepare`, so errors and edge cases are exactly its own."""
    known = _COLUMN_SETS[kind]

    def through_prepare(cells: Sequence[str]) -> Record:
        values = {column: cell for column, cell in zip(columns, cells, strict=False) if column}
        return prepare(kind, values, zone)

    if any(column and column not in known for column in columns):
        return through_prepare
    position = {column: index for index, column in enumerate(columns) if column}
    utc = dt.UTC
    fromisoformat = dt.datetime.fromisoformat
    flags_seen: dict[str, list[str]] = {}

    combine = dt.datetime.combine
    offset_of = zone.utcoffset
    # For a zone that gives the offset of a naive time as of the same time with
    # tzinfo=zone (fold 0), `local - offset` in UTC is what `parse_time` gets by
    # replace() and astimezone(), which are far slower.
    naive_ok = isinstance(zone, ZoneInfo | dt.timezone)
    times_seen: dict[str, dt.datetime] = {}

    def time(text: str) -> dt.datetime:
        # Called for a stamp not in `times_seen` (the same stamp recurs in
        # several columns and rows).
        moment = fromisoformat(text.strip())
        if moment.tzinfo is not None:
            moment = moment.astimezone(utc)
        elif naive_ok:
            offset = offset_of(moment)
            if offset is None:  # not for these zones; as parse_time would do
                return parse_time(text, zone)  # type: ignore[return-value]
            moment = moment - offset
            moment = combine(moment.date(), moment.time(), utc)
        else:
            moment = moment.replace(tzinfo=zone).astimezone(utc)
        if len(times_seen) >= 4096:
            times_seen.clear()
        times_seen[text] = moment
        return moment

    def flags(text: str) -> list[str]:
        found = flags_seen.get(text)
        if found is None:
            found = flags_seen[text] = parse_flags(text)
        return list(found)

    if any(field not in position for field in REQUIRED[kind]):
        return through_prepare  # `prepare` names what is missing
    # The function is written out for this header, one straight block per
    # column (no loop, no per-cell dispatch): it runs once per row of a file
    # that may have hundreds of thousands. Names come from fixed tables, not
    # from the file.
    names: dict[str, object] = {
        "through_prepare": through_prepare,
        "Decimal": Decimal,
        "money_text": _MONEY_TEXT.fullmatch,
        "parse_money": parse_money,
        "flags": flags,
        "quantity": lambda text: _parse_quantity(text, zone),
        "time": time,
        "times_seen": times_seen.get,
        "statuses": STATUS_RANK if kind == "orders" else PAYMENT_RANK,
        "Failed": (ValueError, TypeError, InvalidOperation, OverflowError, IndexError),
    }
    body: list[str] = []
    variable: dict[str, str] = {}
    for field, _parse, limit, _empty in _PARSERS[kind]:
        if field not in position:
            continue
        name = variable[field] = f"v{len(variable)}"
        body.append(f"c = cells[{position[field]}]")
        if field in _TIMES:
            body += [
                "if c:",
                f"    {name} = times_seen(c)",
                f"    if {name} is None:",
                f"        {name} = time(c)",
                "else:",
                f"    {name} = None",
            ]
        elif field in _MONEY:
            body.append(
                f"{name} = (Decimal(c) if money_text(c) else parse_money(c)) if c else None"
            )
        elif field == "flags":
            body.append(f"{name} = flags(c) if c else []")
        elif field == "quantity":
            body.append(f"{name} = quantity(c) if c else None")
        else:  # text: stripped, at most `limit` characters
            body += ["if c:", f"    {name} = c.strip()"]
            if limit:
                body.append(f"    if len({name}) > {limit}: raise ValueError")
            body += ["else:", f"    {name} = ''"]
    body += [f"if not {variable[field]}: raise ValueError" for field in REQUIRED[kind]]
    if kind in ("orders", "payments") and "status" in variable:
        status = variable["status"]
        body.append(f"if {status} and {status} not in statuses: raise ValueError")
    if kind == "shipments" and ("event_time" in variable or "event_status" in variable):
        has_time = variable.get("event_time", "None")
        has_status = variable.get("event_status", "None")
        body.append(f"if (not {has_time}) != (not {has_status}): raise ValueError")
    record = ", ".join(f"{field!r}: {name}" for field, name in variable.items())
    source = "\n".join(
        [
            "def clean(cells):",
            "    try:",
            *(f"        {line}" for line in body),
            "    except Failed:",
            "        return through_prepare(cells)",
            f"    return {{{record}}}",
        ]
    )
    exec(compile(source, f"<sync.cleaner {kind}>", "exec"), names)  # noqa: S102
    return names["clean"]  # type: ignore[return-value]


def _choices_error(choices: Iterable[str]) -> str:
    return _("Unknown status. Use one of: %(choices)s.") % {"choices": ", ".join(choices)}


def identity(kind: str, record: Record) -> tuple:
    """What makes two records the same one (within a shop)."""
    if kind == "orders":
        return ("order", record["order_id"])
    if kind == "items":
        return ("item", record["order_id"], record["item_id"])
    if kind == "payments":
        return ("payment", record["order_id"], record["payment_id"])
    return (
        "event",
        record["order_id"],
        record["courier"],
        record["tracking_number"],
        record.get("event_time"),
        record.get("event_status"),
    )


IDENTITY_FIELD = {
    "orders": "order_id",
    "items": "item_id",
    "payments": "payment_id",
    "shipments": "event_time",
}


def shop_zone(shop) -> dt.tzinfo:
    return ZoneInfo(shop.time_zone)


# --- precedence ------------------------------------------------------------------------


def precedence(
    stored_at: dt.datetime | None, stored_rank: int, incoming_at: dt.datetime, incoming_rank: int
) -> Literal["newer", "same", "older"]:
    """Later source `updated_at` wins; on a tie the later lifecycle rank."""
    if stored_at is None or incoming_at > stored_at:
        return "newer"
    if incoming_at < stored_at:
        return "older"
    if incoming_rank > stored_rank:
        return "newer"
    return "same" if incoming_rank == stored_rank else "older"


def _merge(
    instance: models.Model,
    fields: Mapping[str, object],
    verdict: str,
    changed: list,
    changed_fields: set[str],
) -> Outcome:
    """A stored record and an incoming one judged by `precedence`: only a newer
    record changes it; the changed instance and fields are collected."""
    if verdict != "newer":
        return "ignored_older" if verdict == "older" else "unchanged"
    names = _apply(instance, fields)
    if not names:
        return "unchanged"
    changed.append(instance)
    changed_fields.update(names)
    return "updated"


def _apply(instance: models.Model, changes: Mapping[str, object]) -> list[str]:
    """Set the changed attributes; returns their names."""
    changed = []
    for name, value in changes.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


# --- writing ---------------------------------------------------------------------------


def _adapters(fields: Sequence[Any]) -> list[Callable[[Any], Any] | None]:
    """How the ORM adapts each field's value for the driver (None: as it is),
    resolved once: the same values `Model.save()` would hand the driver."""
    ops = connection.ops
    adapters: list[Callable[[Any], Any] | None] = []
    # SQLite keeps naive UTC text, str() of the naive datetime, as its
    # `adapt_datetimefield_value` writes it when the connection's zone is UTC.
    utc_text = connection.vendor == "sqlite" and connection.timezone == dt.UTC
    adapt_datetime = ops.adapt_datetimefield_value
    for field in fields:
        internal = field.get_internal_type()
        if internal == "DateTimeField" and utc_text:
            adapters.append(_sqlite_utc_text(adapt_datetime))
        elif internal == "DateTimeField":
            # PostgreSQL (psycopg) takes the aware datetime itself.
            keeps = _keeps(adapt_datetime, dt.datetime(2001, 2, 3, 4, 5, 6, 7, tzinfo=dt.UTC))
            adapters.append(None if keeps else adapt_datetime)
        elif internal == "DecimalField":
            if _keeps(ops.adapt_decimalfield_value, Decimal("12.30")):
                adapters.append(None)  # the driver takes Decimal (sqlite3 via str)
            else:
                adapters.append(
                    functools.partial(
                        ops.adapt_decimalfield_value,
                        max_digits=field.max_digits,
                        decimal_places=field.decimal_places,
                    )
                )
        elif internal == "JSONField":
            adapters.append(_json_adapter(ops, field.encoder))
        else:
            adapters.append(None)
    return adapters


def _keeps(adapt: Callable[[Any], Any], probe: object) -> bool:
    """Whether the backend hands this kind of value to the driver unchanged."""
    try:
        return adapt(probe) is probe
    except Exception:
        return False


def _sqlite_utc_text(adapt: Callable[[Any], Any]) -> Callable[[dt.datetime], Any]:
    utc = dt.UTC
    combine = dt.datetime.combine
    seen: dict[dt.datetime, str] = {}

    def convert(value: dt.datetime) -> Any:
        if value.tzinfo is not utc:
            return adapt(value)
        text = seen.get(value)  # equal UTC datetimes have the same text
        if text is None:
            # str() of the naive datetime, as the backend writes it
            # ("YYYY-MM-DD HH:MM:SS[.ffffff]"); combine() is faster than replace().
            text = combine(value.date(), value.time()).isoformat(" ")
            if len(seen) >= 4096:
                seen.clear()
            seen[value] = text
        return text

    return convert


def _json_adapter(ops: Any, encoder: Any) -> Callable[[Any], Any]:
    """json for a list of strings (flags) is made once per distinct list."""
    seen: dict[tuple, Any] = {}

    def convert(value: Any) -> Any:
        if type(value) is list and all(type(item) is str for item in value):
            key = tuple(value)
            found = seen.get(key)
            if found is None:
                found = seen[key] = ops.adapt_json_value(value, encoder)
            return found
        return ops.adapt_json_value(value, encoder)

    return convert


class _Table:
    """INSERT and UPDATE of one model with one executemany, values adapted as
    the ORM adapts them; built once per model and connection."""

    def __init__(self, model: type[models.Model]) -> None:
        meta = model._meta
        fields: list[Any] = [field for field in meta.concrete_fields if not field.primary_key]
        self.fields = {field.attname: field for field in fields}
        self.names = [field.attname for field in fields]
        self.defaults = {field.attname: field.get_default() for field in fields}
        self.adapter = dict(zip(self.names, _adapters(fields), strict=True))
        self.builders: dict[tuple[str, ...], Callable[[Mapping[str, object]], list[Any]]] = {}
        quote = connection.ops.quote_name
        self.table = quote(meta.db_table)
        self.pk = quote(meta.pk.column)
        self.insert_sql = "INSERT INTO {} ({}) VALUES ({})".format(
            self.table,
            ", ".join(quote(field.column) for field in fields),
            ", ".join(["%s"] * len(fields)),
        )

    def insert(self, rows: Sequence[Mapping[str, object]]) -> None:
        if not rows:
            return
        params: list[list[Any]] = []
        append = params.append
        keys: tuple[str, ...] | None = None
        build = None
        for row in rows:
            row_keys = tuple(row)  # the same for nearly every row of a batch
            if row_keys != keys:
                keys = row_keys
                build = self.builders.get(keys) or self._builder(keys)
            append(build(row))  # type: ignore[misc]
        with connection.cursor() as cursor:
            cursor.executemany(self.insert_sql, params)

    def _builder(self, keys: tuple[str, ...]) -> Callable[[Mapping[str, object]], list[Any]]:
        """A function from a row with these keys to its INSERT parameters, written
        out once per key set: the row's values adapted as `insert_sql` wants
        them, the defaults (adapted once) for the fields the row leaves out."""
        names: dict[str, object] = {}
        values = []
        for position, name in enumerate(self.names):
            adapt = self.adapter[name]
            if name not in keys:
                default = self.defaults[name]
                names[f"d{position}"] = (
                    adapt(default) if adapt is not None and default is not None else default
                )
                values.append(f"d{position}")
            elif adapt is None:
                values.append(f"row[{name!r}]")
            else:
                names[f"a{position}"] = adapt
                values.append(f"(None if (v := row[{name!r}]) is None else a{position}(v))")
        unknown = set(keys) - set(self.names)
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        source = "def build(row):\n    return [{}]".format(", ".join(values))
        exec(compile(source, f"<sync insert {self.table}>", "exec"), names)  # noqa: S102
        build = self.builders[keys] = names["build"]  # type: ignore[assignment]
        return build  # type: ignore[return-value]

    def update(self, names: Iterable[str], rows: Sequence[tuple[int, Sequence[object]]]) -> None:
        """UPDATE these columns of these rows, (pk, values in `names` order) each."""
        if not rows:
            return
        names = list(names)
        quote = connection.ops.quote_name
        adapters = [self.adapter[name] for name in names]
        params: list[list[Any]] = []
        for pk, values in rows:
            row = [
                adapt(value) if adapt is not None and value is not None else value
                for adapt, value in zip(adapters, values, strict=True)
            ]
            row.append(pk)
            params.append(row)
        sql = "UPDATE {} SET {} WHERE {} = %s".format(
            self.table,
            ", ".join(f"{quote(self.fields[name].column)} = %s" for name in names),
            self.pk,
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


_tables: dict[tuple, _Table] = {}


def _table(model: type[models.Model]) -> _Table:
    key = (model, connection.vendor, connection.alias, str(connection.timezone))
    found = _tables.get(key)
    if found is None:
        found = _tables[key] = _Table(model)
    return found


def _insert(model: type[models.Model], rows: Sequence[Mapping[str, object]]) -> None:
    """INSERT rows (dicts by attribute name; absent fields take their default)
    with one executemany, values adapted as the ORM adapts them."""
    _table(model).insert(rows)


def _update(instances: Sequence[models.Model], names: Iterable[str]) -> None:
    """UPDATE these attributes of these rows by primary key, one executemany
    (`bulk_update` builds a CASE per field and row, far slower for thousands)."""
    if not instances:
        return
    meta: Any = instances[0]._meta
    attnames = [meta.get_field(name).attname for name in sorted(set(names))]
    _table(type(instances[0])).update(
        attnames,
        [(instance.pk, [getattr(instance, name) for name in attnames]) for instance in instances],
    )


def _select(sql: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _column(model: type[models.Model], name: str) -> str:
    field: Any = model._meta.get_field(name)
    return connection.ops.quote_name(field.column)


def _lookup(
    model: type[models.Model],
    key: str,
    columns: Sequence[str],
    wanted: Iterable[object],
    where: Mapping[str, object] | None = None,
) -> list[tuple]:
    """These columns of the rows whose `key` is in `wanted` (and whose `where`
    columns equal the given values), in plain SQL: only for columns the driver
    returns as the ORM would (ids, text), and without building an ORM query for
    thousands of parameters."""
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return []
    where = where or {}
    conditions = "".join(f" AND {_column(model, name)} = %s" for name in where)
    fixed = list(where.values())
    found: list[tuple] = []
    for chunk in _chunks(wanted, 5000):
        sql = "SELECT {} FROM {} WHERE {} IN ({}){}".format(
            ", ".join(_column(model, name) for name in columns),
            connection.ops.quote_name(model._meta.db_table),
            _column(model, key),
            ", ".join(["%s"] * len(chunk)),
            conditions,
        )
        found.extend(_select(sql, [*chunk, *fixed]))
    return found


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _order_ids(shop, external_ids: Iterable[str]) -> dict[str, int]:
    return dict(
        _lookup(Order, "external_id", ("external_id", "id"), external_ids, {"shop": shop.id})
    )


def _orders_and(
    shop, external_ids: Iterable[str], model: type[models.Model], columns: Sequence[str]
) -> tuple[dict[str, int], list[tuple]]:
    """The shop's orders by external id, and these columns of `model`'s rows of
    those orders ((order id, *columns) each): one query, a LEFT JOIN, instead
    of one for the orders and one for their rows."""
    orders: dict[str, int] = {}
    rows: list[tuple] = []
    wanted = list(dict.fromkeys(external_ids))
    if not wanted:
        return orders, rows
    quote = connection.ops.quote_name
    order_id, child_fk = _column(Order, "id"), _column(model, "order")
    for chunk in _chunks(wanted, 5000):
        sql = (
            "SELECT o.{}, o.{}, {} FROM {} o LEFT JOIN {} c ON c.{} = o.{}"
            " WHERE o.{} IN ({}) AND o.{} = %s"
        ).format(
            _column(Order, "external_id"),
            order_id,
            ", ".join(f"c.{_column(model, name)}" for name in columns),
            quote(Order._meta.db_table),
            quote(model._meta.db_table),
            child_fk,
            order_id,
            _column(Order, "external_id"),
            ", ".join(["%s"] * len(chunk)),
            _column(Order, "shop"),
        )
        for external_id, pk, *values in _select(sql, [*chunk, shop.id]):
            orders[external_id] = pk
            if values[0] is not None:
                rows.append((pk, *values))
    return orders, rows


def _unknown_order(order_id: str) -> Invalid:
    return Invalid(
        [
            (
                "order_id",
                _("This shop has no order “%(order)s”: import the orders first.")
                % {"order": order_id},
            )
        ]
    )


# --- orders ----------------------------------------------------------------------------

_ORDER_FIELDS = {  # record field → model attribute
    "buyer_account": "buyer_account",
    "status": "status",
    "total": "total",
    "paid_amount": "paid_amount",
    "ordered_at": "ordered_at",
    "paid_at": "paid_at",
    "ship_by": "ship_by",
    "shipped_at": "shipped_at",
    "delivered_at": "delivered_at",
    "receiver_name": "receiver_name",
    "receiver_phone": "receiver_phone",
    "receiver_address": "receiver_address",
    "invoice_type": "invoice_type",
    "invoice_title": "invoice_title",
    "invoice_tax_id": "invoice_tax_id",
    "note": "note",
    "updated_at": "source_updated_at",
}


# The stores copy a record and rename `updated_at` instead of mapping each key:
# that is the same only while these hold.
assert set(ORDER_COLUMNS) == {"order_id", *_ORDER_FIELDS}
assert all(_ORDER_FIELDS[k] == k for k in _ORDER_FIELDS if k != "updated_at")


def _missing_for_new(kind: str, record: Record) -> Invalid | None:
    missing = [field for field in REQUIRED_FOR_NEW[kind] if not record.get(field)]
    if missing:
        return Invalid([(field, _("Required for a new record.")) for field in missing])
    return None


def _customers_by_account(shop, accounts: Iterable[str]) -> dict[str, int]:
    where = {"shop": shop.id, "kind": str(IdentityKind.MARKETPLACE.value)}
    if not CustomerIdentity.objects.filter(shop=shop, kind=IdentityKind.MARKETPLACE).exists():
        return {}  # one cheap query instead of an IN list of every account
    wanted = (account for account in accounts if account)
    return dict(_lookup(CustomerIdentity, "value", ("value", "customer"), wanted, where))


def _store_orders(shop, records: Sequence[Record], now: dt.datetime) -> list[Outcome | Invalid]:
    # Which orders exist: plain SQL; only those are loaded (and locked) as models.
    found = _order_ids(shop, (record["order_id"] for record in records))
    existing = (
        {
            order.external_id: order
            for order in Order.objects.select_for_update().filter(id__in=list(found.values()))
        }
        if found
        else {}
    )
    customers = _customers_by_account(shop, (r.get("buyer_account", "") for r in records))
    results: list[Outcome | Invalid] = []
    new_rows = []
    changed: dict[int, Order] = {}
    changed_fields: set[str] = set()
    for record in records:
        order = existing.get(record["order_id"])
        # = {_ORDER_FIELDS[k]: v for k, v in record.items() if k in _ORDER_FIELDS}
        fields = record.copy()
        del fields["order_id"]
        fields["source_updated_at"] = fields.pop("updated_at")
        for name in ("total", "paid_amount"):
            if name in fields and fields[name] is None:
                fields[name] = Decimal("0.00")
        for name in ("receiver_name", "receiver_phone", "receiver_address", "note"):
            if name in fields and fields[name] is None:
                fields[name] = ""
        for name in ("status", "buyer_account", "ordered_at"):
            if not fields.get(name):
                fields.pop(name, None)
        if order is None:
            problem = _missing_for_new("orders", record)
            if problem:
                results.append(problem)
                continue
            fields.setdefault("status", OrderStatus.PENDING_PAYMENT)
            fields["customer_id"] = customers.get(record["buyer_account"])
            fields["shop_id"] = shop.id
            fields["external_id"] = record["order_id"]
            fields["updated_at"] = now
            new_rows.append(fields)
            results.append("created")
            continue
        incoming_rank = STATUS_RANK[fields.get("status", order.status)]
        verdict = precedence(
            order.source_updated_at,
            STATUS_RANK.get(order.status, 0),
            fields["source_updated_at"],
            incoming_rank,
        )
        if verdict == "older":
            results.append("ignored_older")
            continue
        if verdict == "same":
            results.append("unchanged")
            continue
        account = fields.get("buyer_account", order.buyer_account)
        if account in customers:
            fields["customer_id"] = customers[account]
        names = _apply(order, fields)
        if names:
            order.updated_at = now
            changed[order.id] = order
            changed_fields.update(names, ("updated_at",))
        results.append("updated" if names else "unchanged")
    _insert(Order, new_rows)
    if changed:
        _update(list(changed.values()), changed_fields)
    return results


# --- items and products ------------------------------------------------------------------

_ITEM_FIELDS = {
    "name": "name",
    "spec": "spec",
    "category": "category",
    "flags": "flags",
    "quantity": "quantity",
    "unit_price": "unit_price",
    "paid_amount": "paid_amount",
    "updated_at": "source_updated_at",
}


assert set(ITEM_COLUMNS) == {"order_id", "item_id", "product_id", *_ITEM_FIELDS}
assert all(_ITEM_FIELDS[k] == k for k in _ITEM_FIELDS if k != "updated_at")


def _products(shop, records: Sequence[Record]) -> dict[str, int]:
    """The shop's products named by the items, created or refreshed from them:
    the latest item row describing a product wins when it says something new."""
    latest: dict[str, Record] = {}
    for record in records:
        product_id = record.get("product_id")
        if product_id:
            seen = latest.get(product_id)
            if seen is None or record["updated_at"] > seen["updated_at"]:
                latest[product_id] = record
    if not latest:
        return {}
    # What the products say now, in plain SQL (text columns, JSON as text); the
    # ORM loads the source stamps only of products this batch would change.
    columns = ("external_id", "id", "name", "category", "flags")
    ids: dict[str, int] = {}
    differing: dict[int, tuple[str, dict[str, object], dict[str, object]]] = {}
    for product_id, pk, name, category, flags in _lookup(
        Product, "external_id", columns, latest, {"shop": shop.id}
    ):
        ids[product_id] = pk
        record = latest[product_id]
        described: dict[str, object] = {
            key: record[key] for key in ("category", "flags") if key in record
        }
        if record.get("name"):
            described["name"] = record["name"]
        current = {"name": name, "category": category, "flags": _json_value(flags)}
        if any(current[key] != value for key, value in described.items()):
            differing[pk] = (product_id, current, described)
    stamps = (
        dict(Product.objects.filter(id__in=list(differing)).values_list("id", "source_updated_at"))
        if differing
        else {}
    )
    changed = []
    for pk, (product_id, current, described) in differing.items():
        stamp = stamps.get(pk)
        record = latest[product_id]
        if stamp is not None and record["updated_at"] <= stamp:
            continue
        product = Product(id=pk, source_updated_at=stamp, **current)
        if _apply(product, described):
            product.source_updated_at = record["updated_at"]
            changed.append(product)
    new_rows = [
        {
            "shop_id": shop.id,
            "external_id": product_id,
            "name": record.get("name") or product_id,
            "category": record.get("category") or "",
            "flags": record.get("flags") or [],
            "source_updated_at": record["updated_at"],
        }
        for product_id, record in latest.items()
        if product_id not in ids
    ]
    _insert(Product, new_rows)
    _update(changed, ["name", "category", "flags", "source_updated_at"])
    if not new_rows:
        return ids
    return dict(_lookup(Product, "external_id", ("external_id", "id"), latest, {"shop": shop.id}))


_json_seen: dict[str, object] = {}


def _json_value(stored: object) -> object:
    """A JSON column's value as the ORM reads it (the drivers give the text)."""
    if not isinstance(stored, str):
        return stored
    found = _json_seen.get(stored)
    if found is None:
        try:
            found = json.loads(stored)
        except json.JSONDecodeError:
            return stored
        if len(_json_seen) < 1024:
            _json_seen[stored] = found
    if isinstance(found, list) and all(isinstance(item, str) for item in found):
        return list(found)
    return copy.deepcopy(found)


def _store_items(shop, records: Sequence[Record], now: dt.datetime) -> list[Outcome | Invalid]:
    # The orders, and which of them have items, in one plain query; only those
    # load their items as models (by order only: an IN list on both columns of
    # the unique index makes SQLite probe every combination).
    orders, having = _orders_and(
        shop, (record["order_id"] for record in records), OrderItem, ("id",)
    )
    known = [record for record in records if record["order_id"] in orders]
    existing = (
        {
            (item.order_id, item.external_id): item
            for item in OrderItem.objects.select_for_update().filter(
                order_id__in={row[0] for row in having}
            )
        }
        if having
        else {}
    )
    products = _products(shop, known)
    results: list[Outcome | Invalid] = []
    new_rows = []
    changed: list[OrderItem] = []
    changed_fields: set[str] = set()
    for record in records:
        order_id = orders.get(record["order_id"])
        if order_id is None:
            results.append(_unknown_order(record["order_id"]))
            continue
        # = {_ITEM_FIELDS[k]: v for k, v in record.items() if k in _ITEM_FIELDS}
        fields = record.copy()
        del fields["order_id"], fields["item_id"]
        fields["source_updated_at"] = fields.pop("updated_at")
        for name in ("unit_price", "paid_amount"):
            if name in fields and fields[name] is None:
                fields[name] = Decimal("0.00")
        if "quantity" in fields and fields["quantity"] is None:
            fields["quantity"] = 1
        if "product_id" in fields:
            fields["product_id"] = products.get(fields["product_id"])
        if not fields.get("name"):
            fields.pop("name", None)
        item = existing.get((order_id, record["item_id"]))
        if item is None:
            problem = _missing_for_new("items", record)
            if problem:
                results.append(problem)
                continue
            fields["order_id"] = order_id
            fields["external_id"] = record["item_id"]
            new_rows.append(fields)
            results.append("created")
            continue
        verdict = precedence(item.source_updated_at, 0, fields["source_updated_at"], 0)
        results.append(_merge(item, fields, verdict, changed, changed_fields))
    _insert(OrderItem, new_rows)
    if changed:
        _update(changed, changed_fields)
    return results


# --- payments ----------------------------------------------------------------------------

_PAYMENT_FIELDS = {
    "method": "method",
    "amount": "amount",
    "status": "status",
    "paid_at": "paid_at",
    "updated_at": "source_updated_at",
}


def _store_payments(shop, records: Sequence[Record], now: dt.datetime) -> list[Outcome | Invalid]:
    orders = _order_ids(shop, (record["order_id"] for record in records))
    known = [record for record in records if record["order_id"] in orders]
    existing = {
        (payment.order_id, payment.external_id): payment
        for payment in Payment.objects.select_for_update().filter(
            order_id__in={orders[r["order_id"]] for r in known}
        )
    }
    results: list[Outcome | Invalid] = []
    new_rows = []
    changed: list[Payment] = []
    changed_fields: set[str] = set()
    for record in records:
        order_id = orders.get(record["order_id"])
        if order_id is None:
            results.append(_unknown_order(record["order_id"]))
            continue
        fields = {_PAYMENT_FIELDS[k]: v for k, v in record.items() if k in _PAYMENT_FIELDS}
        if not fields.get("status"):
            fields.pop("status", None)
        payment = existing.get((order_id, record["payment_id"]))
        if payment is None:
            problem = _missing_for_new("payments", record)
            if problem:
                results.append(problem)
                continue
            fields.setdefault("status", PaymentStatus.PENDING)
            new_rows.append({**fields, "order_id": order_id, "external_id": record["payment_id"]})
            results.append("created")
            continue
        if "amount" in fields and fields["amount"] is None:
            fields.pop("amount")
        verdict = precedence(
            payment.source_updated_at,
            PAYMENT_RANK.get(payment.status, 0),
            fields["source_updated_at"],
            PAYMENT_RANK[fields.get("status", payment.status)],
        )
        results.append(_merge(payment, fields, verdict, changed, changed_fields))
    _insert(Payment, new_rows)
    if changed:
        _update(changed, changed_fields)
    return results


# --- shipments and tracking events -------------------------------------------------------


def _store_shipments(shop, records: Sequence[Record], now: dt.datetime) -> list[Outcome | Invalid]:
    """One record per tracking event. Shipment has no source stamp of its own:
    `shipped_at` / `delivered_at` fill an empty field, and replace a stored one
    only from a record whose `updated_at` is not older than the shipment's last
    event; `last_event_at` is the latest event time. Events are never removed."""
    # The orders and their parcels ((order, courier, number, id) each), one query.
    orders, found = _orders_and(
        shop,
        (record["order_id"] for record in records),
        Shipment,
        ("courier", "tracking_number", "id"),
    )
    known = [record for record in records if record["order_id"] in orders]

    def key(record: Record) -> tuple[int, str, str]:
        return (orders[record["order_id"]], record["courier"], record["tracking_number"])

    def parcels(order_ids: Iterable[int]) -> list[tuple]:
        columns = ("order", "courier", "tracking_number", "id")
        return _lookup(Shipment, "order", columns, order_ids)

    # Each parcel's [id, shipped_at, delivered_at, last_event_at].
    state: dict[tuple[int, str, str], list[Any]] = {}
    if found:
        times = {
            row[0]: row[1:]
            for row in Shipment.objects.select_for_update()
            .filter(id__in=[row[3] for row in found])
            .values_list("id", "shipped_at", "delivered_at", "last_event_at")
        }
        state = {(o, c, t): [pk, *times[pk]] for o, c, t, pk in found}
    stored_before = {state[k][0] for k in {key(record) for record in known} if k in state}
    missing = {key(record) for record in known} - set(state)
    if missing:
        # New parcels are inserted with what this batch says about them.
        new: dict[tuple[int, str, str], dict[str, Any]] = {}
        for record in sorted(known, key=lambda record: record["updated_at"]):
            shipment_key = key(record)
            if shipment_key not in missing:
                continue
            row = new.setdefault(
                shipment_key,
                dict(zip(("order_id", "courier", "tracking_number"), shipment_key, strict=True)),
            )
            for name in ("shipped_at", "delivered_at"):
                if record.get(name):
                    row[name] = record[name]
            occurred_at = record.get("event_time")
            if occurred_at and (
                row.get("last_event_at") is None or occurred_at > row["last_event_at"]
            ):
                row["last_event_at"] = occurred_at
        _insert(Shipment, list(new.values()))
        for o, c, t, pk in parcels({shipment_key[0] for shipment_key in missing}):
            inserted = new.get((o, c, t))
            if inserted is not None:
                state[(o, c, t)] = [
                    pk,
                    inserted.get("shipped_at"),
                    inserted.get("delivered_at"),
                    inserted.get("last_event_at"),
                ]
    # Only parcels stored before this batch can have events already.
    events = (
        {
            (event.shipment_id, event.occurred_at, event.status): event
            for event in TrackingEvent.objects.filter(shipment_id__in=stored_before).only(
                "id", "shipment_id", "occurred_at", "status", "location", "description"
            )
        }
        if stored_before
        else {}
    )
    before = {parcel[0]: tuple(parcel[1:]) for parcel in state.values()}
    results: list[Outcome | Invalid] = []
    new_events = []
    changed_events: list[TrackingEvent] = []
    touched: dict[int, list[Any]] = {}
    for record in records:
        if record["order_id"] not in orders:
            results.append(_unknown_order(record["order_id"]))
            continue
        shipment_key = key(record)
        parcel = state[shipment_key]
        outcome: Outcome = "created" if shipment_key in missing else "unchanged"
        missing.discard(shipment_key)
        newest_known = parcel[3]
        for position, name in ((1, "shipped_at"), (2, "delivered_at")):
            value = record.get(name)
            stored = parcel[position]
            if value and value != stored:
                if stored is None or newest_known is None or record["updated_at"] >= newest_known:
                    parcel[position] = value
                    outcome = "updated" if outcome == "unchanged" else outcome
        occurred_at = record.get("event_time")
        if occurred_at:
            if parcel[3] is None or occurred_at > parcel[3]:
                parcel[3] = occurred_at
            event_key = (parcel[0], occurred_at, record["event_status"])
            event = events.get(event_key)
            details = {
                "location": record.get("event_location") or "",
                "description": record.get("event_description") or "",
            }
            if event is None:
                new_events.append(
                    {
                        "shipment_id": parcel[0],
                        "occurred_at": occurred_at,
                        "status": record["event_status"],
                        **details,
                    }
                )
                outcome = "created"
            elif _apply(event, details):
                changed_events.append(event)
                outcome = "updated" if outcome == "unchanged" else outcome
        touched[parcel[0]] = parcel
        results.append(outcome)
    _insert(TrackingEvent, new_events)
    if changed_events:
        _update(changed_events, ["location", "description"])
    changed = [
        (parcel[0], parcel[1:])
        for parcel in touched.values()
        if tuple(parcel[1:]) != before[parcel[0]]
    ]
    _table(Shipment).update(("shipped_at", "delivered_at", "last_event_at"), changed)
    return results


_STORES = {
    "orders": _store_orders,
    "items": _store_items,
    "payments": _store_payments,
    "shipments": _store_shipments,
}


def store(shop, kind: str, records: Sequence[Record], *, now: dt.datetime | None = None):
    """Upsert clean records (at most one per identity) of one shop; call inside a
    transaction. One result per record: its outcome, or Invalid (nothing stored)."""
    from django.utils import timezone

    results: list[Outcome | Invalid] = []
    moment = now or timezone.now()
    for chunk in _chunks(records, BATCH_SIZE):
        results.extend(_STORES[kind](shop, chunk, moment))
    return results


@dataclass(frozen=True)
class RecordResult:
    index: int
    outcome: Outcome | None
    errors: list[tuple[str, str]]


def upsert(shop, kind: str, records: Sequence[Mapping[str, object]]) -> list[RecordResult]:
    """Clean and store a batch (the API's path); call inside a transaction. The
    same identity twice in one batch refuses the second."""
    zone = shop_zone(shop)
    clean: list[tuple[int, Record]] = []
    results: dict[int, RecordResult] = {}
    seen: dict[tuple, int] = {}
    for index, values in enumerate(records):
        try:
            record = prepare(kind, values, zone)
        except Invalid as error:
            results[index] = RecordResult(index, None, error.errors)
            continue
        first = seen.setdefault(identity(kind, record), index)
        if first != index:
            reason = _("The same record as record %(index)d.") % {"index": first}
            results[index] = RecordResult(index, None, [(IDENTITY_FIELD[kind], reason)])
            continue
        clean.append((index, record))
    outcomes = store(shop, kind, [record for _index, record in clean])
    for (index, _record), outcome in zip(clean, outcomes, strict=True):
        if isinstance(outcome, Invalid):
            results[index] = RecordResult(index, None, outcome.errors)
        else:
            results[index] = RecordResult(index, outcome, [])
    return [results[index] for index in range(len(records))]
