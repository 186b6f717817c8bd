"""Orders, items, payments and shipment events as spreadsheets (`kefu import
orders|items|payments|shipments PATH`); the columns are documented in
docs/IMPORT.md. Rows are cleaned and stored in batches by `sync`, the same
upsert the JSON API uses, so a file and an API call never disagree."""

from __future__ import annotations

from kefu.core import tabular
from kefu.core.tabular import ImportContext, Outcome, Row, RowError, RowRejected

from . import sync

MAX_ROWS = 300_000


class SyncImporter(tabular.Importer):
    batch_size = sync.BATCH_SIZE
    max_rows = MAX_ROWS

    def import_rows(
        self, rows: list[Row], context: ImportContext
    ) -> list[Outcome | list[RowError]]:
        if not rows:
            return []
        # Cells by position, cleaned by `sync.cleaner` made once for the header.
        prepare = self._cleaner(rows[0].header, context)
        results: list[Outcome | list[RowError] | None] = [None] * len(rows)
        clean: list[tuple[int, sync.Record]] = []
        kind = self.kind
        identity = sync.identity
        first_line = context.seen.setdefault
        identity_field = sync.IDENTITY_FIELD[kind]
        for position, row in enumerate(rows):
            try:
                record = prepare(row.cells)
                key = identity(kind, record)
                if first_line(key, row.line) != row.line:
                    context.claim(key, row.line, identity_field)  # refuses the row
            except sync.Invalid as error:
                results[position] = [
                    RowError(row.line, field, reason) for field, reason in error.errors
                ]
            except RowRejected as error:
                results[position] = [RowError(row.line, error.column, error.reason)]
            else:
                clean.append((position, record))
        outcomes = sync.store(context.shop, self.kind, [record for _position, record in clean])
        for (position, _record), outcome in zip(clean, outcomes, strict=True):
            if isinstance(outcome, sync.Invalid):
                line = rows[position].line
                results[position] = [
                    RowError(line, field, reason) for field, reason in outcome.errors
                ]
            else:
                # A row older than what is stored changes nothing.
                results[position] = "unchanged" if outcome == "ignored_older" else outcome
        return [result for result in results if result is not None]

    def _cleaner(self, header: list[str], context: ImportContext):
        """`sync.cleaner` for this file's header, made once per import run."""
        key = ("sync.cleaner", self.kind, tuple(header))
        found = context.memo.get(key)
        if found is None:
            found = context.memo[key] = sync.cleaner(
                self.kind, header, sync.shop_zone(context.shop)
            )
        return found


class OrderImporter(SyncImporter):
    kind = "orders"
    help = "Orders by the shop's order number: buyer, status, amounts, times, receiver"
    columns = sync.ORDER_COLUMNS
    required = sync.REQUIRED["orders"]


class ItemImporter(SyncImporter):
    kind = "items"
    help = "Order items by order number and item id: product, spec, flags, quantity, prices"
    columns = sync.ITEM_COLUMNS
    required = sync.REQUIRED["items"]


class PaymentImporter(SyncImporter):
    kind = "payments"
    help = "Payments by order number and payment id: method, amount, status"
    columns = sync.PAYMENT_COLUMNS
    required = sync.REQUIRED["payments"]


class ShipmentImporter(SyncImporter):
    kind = "shipments"
    help = "Shipments, one row per tracking event: courier, tracking number, event"
    columns = sync.SHIPMENT_COLUMNS
    required = sync.REQUIRED["shipments"]


tabular.register(OrderImporter(), ItemImporter(), PaymentImporter(), ShipmentImporter())
