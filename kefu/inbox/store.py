"""The SQL of the hot path, written out: building these few statements through
the ORM cost ~1.7 ms of CPU per transaction, ten times the database's own work
(PERFORMANCE.md, cause 4). Everything else in the inbox uses the ORM.

A conversation's datetime columns are read only as "set or not": `KEPT`
stands for a value that is set and stays as it is, so no datetime is parsed
here and the UPDATE writes only what changed."""

from __future__ import annotations

from django.db import connection

from .models import Conversation, Message

CONVERSATION = Conversation._meta.db_table
MESSAGE = Message._meta.db_table
SHOP = Conversation._meta.get_field("shop").related_model._meta.db_table  # type: ignore[union-attr]
TIMES = ("waiting_since", "first_customer_message_at", "first_response_at", "hold_until")


class _Kept:
    """A datetime that is set in the database and not changed by this batch."""

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "KEPT"


KEPT = _Kept()


def _placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def lock_conversations(ids: list[int]) -> dict[int, dict]:
    """The conversations' counters, rows locked (in id order) until commit."""
    lock = f" FOR UPDATE OF {CONVERSATION}" if connection.features.has_select_for_update else ""
    times = ", ".join(f"{CONVERSATION}.{name} IS NOT NULL" for name in TIMES)
    sql = (
        f"SELECT {CONVERSATION}.id, {CONVERSATION}.shop_id, {CONVERSATION}.agent_id, "
        f"{CONVERSATION}.status, {CONVERSATION}.last_seq, {CONVERSATION}.unread_count, "
        f"{times}, {SHOP}.max_message_chars "
        f"FROM {CONVERSATION} JOIN {SHOP} ON {SHOP}.id = {CONVERSATION}.shop_id "
        f"WHERE {CONVERSATION}.id IN ({_placeholders(len(ids))}) ORDER BY {CONVERSATION}.id{lock}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        rows = cursor.fetchall()
    conversations = {}
    for row in rows:
        conversation = {
            "id": row[0],
            "shop_id": row[1],
            "agent_id": row[2],
            "status": row[3],
            "last_seq": row[4],
            "unread_count": row[5],
            "max_message_chars": row[10],
        }
        for offset, name in enumerate(TIMES):
            conversation[name] = KEPT if row[6 + offset] else None
        conversations[row[0]] = conversation
    return conversations


def stored_messages(conversation_ids: list[int], client_ids: set[str]) -> dict:
    """Messages already stored under these client ids: {(conversation, sender type,
    client id): Message}. Usually none, so the rows are loaded only when found."""
    ids = list(client_ids)
    sql = (
        f"SELECT id FROM {MESSAGE} WHERE conversation_id IN "
        f"({_placeholders(len(conversation_ids))}) AND client_id IN ({_placeholders(len(ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*conversation_ids, *ids])
        found = [row[0] for row in cursor.fetchall()]
    if not found:
        return {}
    return {
        (m.conversation_id, m.sender_type, m.client_id): m
        for m in Message.objects.filter(id__in=found)
    }


def insert_messages(messages: list[Message]) -> None:
    """One multi-row INSERT; sets each message's id."""
    adapt = connection.ops.adapt_datetimefield_value
    columns = (
        "conversation_id, seq, client_id, sender_type, sender_id, sender_name, text, "
        "hold_seconds, created_at"
    )
    values = ", ".join([f"({_placeholders(9)})"] * len(messages))
    params: list = []
    for m in messages:
        params += [
            m.conversation_id, m.seq, m.client_id, m.sender_type, m.sender_id,
            m.sender_name, m.text, m.hold_seconds, adapt(m.created_at),
        ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {MESSAGE} ({columns}) VALUES {values} RETURNING id", params)
        ids = [row[0] for row in cursor.fetchall()]
    for message, pk in zip(messages, ids, strict=True):
        message.id = pk


def save_conversation_state(conversations: list[dict]) -> None:
    """Write back the counters that `lock_conversations` read and the batch moved."""
    adapt = connection.ops.adapt_datetimefield_value
    times = ", ".join(f"{name} = CASE WHEN %s = 1 THEN {name} ELSE %s END" for name in TIMES)
    sql = (
        f"UPDATE {CONVERSATION} SET last_seq = %s, unread_count = %s, {times}, "
        "last_message_at = %s, last_message_preview = %s WHERE id = %s"
    )
    rows = []
    for c in conversations:
        row: list = [c["last_seq"], c["unread_count"]]
        for name in TIMES:
            value = c[name]
            row += [1, None] if value is KEPT else [0, adapt(value)]
        row += [adapt(c["last_message_at"]), c["last_message_preview"], c["id"]]
        rows.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
