"""`POST /api/v1/commerce/sync/{orders,items,payments,shipments}`: a shop's own
system pushes its records, upserted by the shop's ids through `sync.upsert`
(the same code as the spreadsheet import). Only the shop's API token may call
it, and it only ever reads and writes that token's shop.

Good records are stored and bad ones reported, each with the fields at fault;
with `"atomic": true` nothing is stored when any record is refused."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kefu.api import staff_auth
from kefu.core import principal
from kefu.core.errors import PermissionDenied

from . import sync

router = Router(auth=staff_auth)


class SyncIn(Schema):
    records: list[dict[str, Any]] = Field(..., min_length=1, max_length=sync.MAX_API_RECORDS)
    atomic: bool = False


class FieldError(Schema):
    field: str
    reason: str


class RecordOut(Schema):
    index: int
    outcome: str | None
    errors: list[FieldError]


class SyncOut(Schema):
    stored: bool
    created: int
    updated: int
    unchanged: int
    ignored_older: int
    rejected: int
    results: list[RecordOut]


class ErrorOut(Schema):
    code: str
    detail: object


def _sync(request, kind: str, payload: SyncIn) -> SyncOut:
    token = principal.api_token_of(request)
    if token is None:
        raise PermissionDenied(_("This endpoint needs the shop's API token."))
    shop = token.shop
    for attempt in range(2):
        try:
            with transaction.atomic():
                results = sync.upsert(shop, kind, payload.records)
                stored = not (payload.atomic and any(result.errors for result in results))
                if not stored:
                    transaction.set_rollback(True)
            break
        except IntegrityError:
            # Another request inserted one of these records first: once more, now
            # that it exists, the normal precedence applies.
            if attempt:
                raise
    counts = {"created": 0, "updated": 0, "unchanged": 0, "ignored_older": 0}
    for result in results:
        if result.outcome and stored:
            counts[result.outcome] += 1
    return SyncOut(
        stored=stored,
        rejected=sum(1 for result in results if result.errors),
        results=[
            RecordOut(
                index=result.index,
                outcome=result.outcome if stored else None,
                errors=[FieldError(field=field, reason=reason) for field, reason in result.errors],
            )
            for result in results
        ],
        **counts,
    )


@router.post("/orders", response={200: SyncOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut})
def sync_orders(request, payload: SyncIn):
    return _sync(request, "orders", payload)


@router.post("/items", response={200: SyncOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut})
def sync_items(request, payload: SyncIn):
    return _sync(request, "items", payload)


@router.post("/payments", response={200: SyncOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut})
def sync_payments(request, payload: SyncIn):
    return _sync(request, "payments", payload)


@router.post("/shipments", response={200: SyncOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut})
def sync_shipments(request, payload: SyncIn):
    return _sync(request, "shipments", payload)
