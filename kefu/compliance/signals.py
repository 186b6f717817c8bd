"""Permission changes, wherever they are made (admin, shell, actions), reach
the audit log: groups and permissions of a user, and an agent's role. The
handlers only call `audit.record_permission_change`. Connected in
`apps.ComplianceConfig.ready`.

Also the SQLite side of the append-only audit table (migration 0002): its
delete trigger asks the connection whether a whole-database flush is under
way, the one time every row may go.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models.signals import m2m_changed, post_save, pre_save

from . import audit

AUDIT_PURGE_FUNCTION = "kefu_audit_purge"


# --- who is acting --------------------------------------------------------------------


class AuditActorMiddleware:
    """Attributes audit rows written during a request (by the signal handlers
    below) to the request's user. Goes after AuthenticationMiddleware."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        with audit.acting_as(request):
            return self.get_response(request)


# --- groups, permissions, role ---------------------------------------------------------


def _user_facts(user_ids) -> dict[int, tuple[str, list[int]]]:
    """user id -> (username, ids of the shops they work in)."""
    from kefu.accounts.models import AgentProfile

    User = get_user_model()
    facts: dict[int, tuple[str, list[int]]] = {
        pk: (username, [])
        for pk, username in User.objects.filter(pk__in=list(user_ids)).values_list(
            "pk", User.USERNAME_FIELD
        )
    }
    for user_id, shop_id in AgentProfile.objects.filter(
        user_id__in=list(facts), shops__isnull=False
    ).values_list("user_id", "shops"):
        facts[user_id][1].append(shop_id)
    return facts


def _names(model, ids) -> list[str]:
    if model is Permission:
        rows = Permission.objects.filter(pk__in=list(ids)).select_related("content_type")
        return [f"{p.content_type.app_label}.{p.codename}" for p in rows]
    return list(model.objects.filter(pk__in=list(ids)).values_list("name", flat=True))


def _m2m_changed(what: str):
    def handler(sender, instance, action, reverse, model, pk_set=None, **kwargs):
        if action in ("post_add", "post_remove"):
            verb = "added" if action == "post_add" else "removed"
        elif action == "pre_clear":
            verb = "removed"
        else:
            return
        if reverse:  # group.user_set.add(user), permission.user_set.remove(…)
            user_ids = set(pk_set or ())
            if action == "pre_clear":
                user_ids = set(instance.user_set.values_list("pk", flat=True))
            items = _names(type(instance), [instance.pk])
        else:
            user_ids = {instance.pk}
            ids = pk_set or ()
            if action == "pre_clear":
                ids = getattr(instance, what).values_list("pk", flat=True)
            items = _names(model, ids)
        if not user_ids or not items:
            return
        for user_id, (username, shop_ids) in _user_facts(user_ids).items():
            audit.record_permission_change(
                user_id,
                change=f"{what} {verb}",
                items=items,
                shop_ids=shop_ids,
                username=username,
            )

    return handler


_groups_changed = _m2m_changed("groups")
_permissions_changed = _m2m_changed("user_permissions")


def _role_before(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None:
        return
    if update_fields is not None and "role" not in update_fields:
        return
    old = sender.objects.filter(pk=instance.pk).values_list("role", flat=True).first()
    if old is not None and old != instance.role:
        instance._audit_old_role = old


def _role_after(sender, instance, created, raw=False, **kwargs):
    from kefu.accounts.models import Role

    if raw:
        return
    old = instance.__dict__.pop("_audit_old_role", None)
    if created:
        if instance.role == Role.AGENT:
            return
        old = ""
    elif old is None:
        return
    audit.record_permission_change(
        instance.user_id,
        change="role",
        items=[f"{old or '-'} -> {instance.role}"],
        shop_ids=instance.shops.values_list("id", flat=True) if not created else (),
        username=instance.user.get_username(),
    )


# --- SQLite: flushing the whole database ---------------------------------------------


def _sqlite_connected(sender, connection, **kwargs) -> None:
    """Register the function the audit table's delete trigger consults, and
    let `flush` (emptying every table, as tests do between transactional
    tests) through. PostgreSQL needs none of this: flush there is TRUNCATE,
    which row triggers do not see."""
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function(
        AUDIT_PURGE_FUNCTION,
        0,
        lambda: 1 if getattr(connection, "kefu_audit_purge", False) else 0,
    )
    ops = connection.ops
    if getattr(ops, "_kefu_audit_flush", False):
        return
    flush = ops.execute_sql_flush

    def execute_sql_flush(sql_list):
        setattr(connection, "kefu_audit_purge", True)  # noqa: B010
        try:
            return flush(sql_list)
        finally:
            setattr(connection, "kefu_audit_purge", False)  # noqa: B010

    setattr(ops, "execute_sql_flush", execute_sql_flush)  # noqa: B010
    setattr(ops, "_kefu_audit_flush", True)  # noqa: B010


def connect() -> None:
    from django.db.backends.signals import connection_created

    from kefu.accounts.models import AgentProfile

    User = get_user_model()
    m2m_changed.connect(
        _groups_changed, sender=User.groups.through, dispatch_uid="kefu_audit_groups"
    )
    m2m_changed.connect(
        _permissions_changed,
        sender=User.user_permissions.through,
        dispatch_uid="kefu_audit_permissions",
    )
    pre_save.connect(_role_before, sender=AgentProfile, dispatch_uid="kefu_audit_role_before")
    post_save.connect(_role_after, sender=AgentProfile, dispatch_uid="kefu_audit_role_after")
    connection_created.connect(_sqlite_connected, dispatch_uid="kefu_audit_sqlite")
