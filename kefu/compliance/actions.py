"""Screening outgoing messages, recording what the guard found, supervisors'
overrides, and editing a shop's rules and settings."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kefu.core.clock import Clock, system_clock
from kefu.core.errors import ActionError, NotFound, PermissionDenied

from .guard import registry
from .guard.context import OrderFacts
from .guard.defaults import default_specs
from .guard.engine import Finding, RuleSpec, Screening, validate
from .models import (
    Action,
    AuditAction,
    ComplianceRule,
    ComplianceSettings,
    OverrideRequest,
    OverrideStatus,
    Violation,
)

EXCERPT_CHARS = 60
REASON_MIN_CHARS = 4


class Blocked(ActionError):
    """A send the guard refused; `findings` say why (for the composer)."""

    code = "blocked"

    def __init__(self, screening: Screening) -> None:
        first = next(f for f in screening.findings if f.severity == "block")
        super().__init__(
            _("Not sent: %(rule)s. %(message)s") % {"rule": first.rule, "message": first.message}
        )
        self.findings = screening.as_dicts()

    @property
    def payload(self) -> dict[str, Any]:
        return {"findings": self.findings}


class RuleInvalid(ActionError):
    code = "invalid_rule"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(_("The rule was not saved: %s") % "; ".join(problems))
        self.problems = problems


# --- Screening -------------------------------------------------------------------


def screen_outgoing(
    text: str,
    *,
    shop_id: int,
    agent_level: str = "",
    order: OrderFacts | None = None,
    language: str = "zh-hans",
) -> Screening:
    """What the shop's rules find in a message about to be sent, judged with
    the shop's settings, the sender's level and the order when one is linked.
    Stores nothing."""
    shop_guard = registry.shop_guard(shop_id)
    changes: dict[str, Any] = {}
    if agent_level:
        changes["agent_level"] = agent_level
    if order is not None:
        changes["order"] = order
    context = dataclasses.replace(shop_guard.context, **changes) if changes else shop_guard.context
    return shop_guard.guard.screen(text, context, language=language)


def check_template(text: str, *, shop_id: int, language: str = "zh-hans") -> list[str]:
    """Why a shop's template (the greeting, the bot's handoff text) may not be
    saved: one message per finding the shop's rules would block at send time;
    empty when it may. Templates are screened again when sent."""
    screening = screen_outgoing(text, shop_id=shop_id, language=language)
    return [
        _("“%(excerpt)s”: %(message)s")
        % {"excerpt": text[finding.start : finding.end], "message": finding.message}
        for finding in screening.findings
        if finding.severity == "block"
    ]


def excerpt(text: str, finding: Finding) -> str:
    from .privacy import mask_text

    return mask_text(text[finding.start : finding.end])[:EXCERPT_CHARS]


def violations_for(
    screening: Screening,
    *,
    shop_id: int,
    conversation_id: int | None,
    agent_id: int | None,
    sender_type: str,
    client_id: str,
    action_of_block: str,
    message_seq: int | None,
    at: dt.datetime,
) -> list[Violation]:
    """Unsaved rows for one send: block findings get `action_of_block`
    (blocked, overridden, handed off), the others `sent`."""
    rows = []
    seen: set[tuple[str, str]] = set()
    for finding in screening.findings:
        action = action_of_block if finding.severity == "block" else Action.SENT
        if (finding.rule, action) in seen:
            continue
        seen.add((finding.rule, action))
        rows.append(
            Violation(
                shop_id=shop_id,
                conversation_id=conversation_id,
                agent_id=agent_id,
                sender_type=sender_type,
                client_id=client_id,
                message_seq=message_seq if action != Action.BLOCKED else None,
                rule_id=finding.rule_id,
                rule_code=finding.rule,
                family=finding.family,
                severity=finding.severity,
                action=action,
                points=finding.points,
                excerpt=excerpt(screening.text, finding),
                at=at,
            )
        )
    return rows


def save_violations(rows: Iterable[Violation]) -> None:
    rows = list(rows)
    if rows:
        Violation.objects.bulk_create(rows, ignore_conflicts=True)


# --- Overrides -------------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN_CHARS:
        raise ActionError(
            _("Please give a reason (at least %(n)d characters).") % {"n": REASON_MIN_CHARS},
            code="reason_required",
        )
    return reason[:300]


def request_override(
    user,
    conversation_id: int,
    *,
    client_id: str,
    text: str,
    reason: str = "",
    clock: Clock = system_clock,
) -> OverrideRequest:
    """The agent asks a supervisor to allow a send the guard blocked."""
    from kefu.accounts import queries as accounts_queries
    from kefu.core.text import clean_client_id, clean_message_text
    from kefu.realtime.events import OverrideRequested, supervisors_group
    from kefu.realtime.publish import publish_on_commit

    conversation = accounts_queries.conversation_for(user, conversation_id)
    text = clean_message_text(text, conversation.shop.max_message_chars)
    client_id = clean_client_id(client_id)
    profile = accounts_queries.profile_of(user)
    screening = screen_outgoing(
        text, shop_id=conversation.shop_id, agent_level=profile.level, language="zh-hans"
    )
    if not screening.blocked:
        raise ActionError(_("This message is not blocked; send it."), code="not_blocked")
    with transaction.atomic():
        override, created = OverrideRequest.objects.get_or_create(
            conversation=conversation,
            agent=user,
            client_id=client_id,
            defaults={
                "shop_id": conversation.shop_id,
                "text": text,
                "findings": screening.as_dicts(),
                "agent_reason": (reason or "").strip()[:300],
                "created_at": clock.now(),
            },
        )
        if created:
            publish_on_commit(
                OverrideRequested(
                    groups=(supervisors_group(conversation.shop_id),),
                    override={
                        "id": override.id,
                        "conversation_id": conversation.id,
                        "agent": profile.display_name,
                        "text": text,
                    },
                )
            )
    return override


def decide_override(
    user, override_id: int, *, allow: bool, reason: str, clock: Clock = system_clock
) -> OverrideRequest:
    """A supervisor allows (the message is sent as the agent's, its block
    findings recorded as overridden) or refuses; both audited."""
    from kefu.accounts import queries as accounts_queries
    from kefu.inbox import actions as inbox_actions
    from kefu.inbox.models import SenderType

    from . import audit

    reason = _reason(reason)
    with transaction.atomic():
        override = OverrideRequest.objects.select_for_update().filter(id=override_id).first()
        if override is None or not accounts_queries.supervises(user, override.shop_id):
            raise NotFound(_("Override request not found."))
        if not can_allow(user, override.shop_id):
            raise PermissionDenied(_("You may not allow blocked messages."))
        if override.status != OverrideStatus.PENDING:
            raise ActionError(_("This request was already decided."), code="decided")
        override.status = OverrideStatus.ALLOWED if allow else OverrideStatus.REFUSED
        override.decided_by = user
        override.decision_reason = reason
        override.decided_at = clock.now()
        if allow:
            agent_profile = accounts_queries.profile_of(override.agent)
            result = inbox_actions.ingest_message(
                inbox_actions.IngestRequest(
                    conversation_id=override.conversation_id,
                    sender_type=SenderType.AGENT,
                    client_id=override.client_id,
                    text=override.text,
                    sender_id=override.agent_id,
                    sender_name=agent_profile.display_name,
                    agent_level=agent_profile.level,
                    supervised_shop_ids=frozenset({override.shop_id}),
                    override=True,
                ),
                clock,
            )
            if result.error:
                raise result.error
            override.message_seq = (result.message or {}).get("seq")
        override.save()
        audit.record(
            user,
            AuditAction.OVERRIDE if allow else AuditAction.REFUSE_OVERRIDE,
            shop_id=override.shop_id,
            subject=f"conversation {override.conversation_id}, send {override.client_id}",
            reason=reason,
            data={
                "override_id": override.id,
                "agent_id": override.agent_id,
                "rules": sorted({f["rule"] for f in override.findings}),
            },
            clock=clock,
        )
    return override


def can_allow(user, shop_id: int) -> bool:
    from kefu.accounts import queries as accounts_queries

    return accounts_queries.supervises(user, shop_id) or user.has_perm(
        "compliance.allow_blocked_send"
    )


# --- Rules and settings -------------------------------------------------------------


RULE_FIELDS = tuple(f for f in RuleSpec.__dataclass_fields__ if f != "id")


def ensure_settings(shop) -> ComplianceSettings:
    """The shop's settings, created with the shipped default rules on first use."""
    settings = ComplianceSettings.objects.filter(shop=shop).first()
    if settings is not None:
        return settings
    try:
        with transaction.atomic():
            settings = ComplianceSettings.objects.create(shop=shop)
            install_default_rules(shop)
    except IntegrityError:  # created meanwhile by another process
        settings = ComplianceSettings.objects.get(shop=shop)
    return settings


def install_default_rules(shop, codes: Iterable[str] | None = None) -> int:
    """Copy shipped rules the shop does not have yet (by code). Returns how many."""
    have = set(ComplianceRule.objects.filter(shop=shop).values_list("code", flat=True))
    wanted = set(codes) if codes is not None else None
    rows = []
    for spec in default_specs():
        if spec.code in have or (wanted is not None and spec.code not in wanted):
            continue
        rows.append(ComplianceRule(shop=shop, builtin=True, **_model_fields(spec)))
    ComplianceRule.objects.bulk_create(rows)
    if rows:
        bump_revision(shop.id)
    return len(rows)


def _model_fields(spec: RuleSpec) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in RULE_FIELDS:
        value = getattr(spec, name)
        data[name] = "\n".join(value) if name in RuleSpec.LIST_FIELDS else value
    return data


def bump_revision(shop_id: int) -> None:
    ComplianceSettings.objects.filter(shop_id=shop_id).update(revision=F("revision") + 1)
    transaction.on_commit(lambda: registry.forget(shop_id))
    registry.forget(shop_id)


def check_rule(fields: Mapping[str, Any]) -> RuleSpec:
    """The rule as the engine will run it, or RuleInvalid listing every problem
    (expressions RE2 cannot run, examples that misbehave)."""
    spec = RuleSpec.from_mapping(fields)
    problems = validate(spec)
    if problems:
        raise RuleInvalid(problems)
    return spec


def save_rule(
    user, shop, fields: Mapping[str, Any], *, rule_id: int | None = None
) -> tuple[ComplianceRule, bool]:
    """Create or change a shop's rule; (rule, changed). Refused with every
    problem listed when it does not compile or its examples misbehave."""
    from . import audit

    ensure_settings(shop)
    with transaction.atomic():
        rule = None
        if rule_id is not None:
            rule = ComplianceRule.objects.select_for_update().filter(shop=shop, id=rule_id).first()
            if rule is None:
                raise NotFound(_("Rule not found."))
        merged = {name: getattr(rule, name) for name in RULE_FIELDS} if rule else {}
        merged.update({k: v for k, v in fields.items() if k in RULE_FIELDS})
        spec = check_rule(merged)
        values = _model_fields(spec)
        if rule is None:
            if ComplianceRule.objects.filter(shop=shop, code=spec.code).exists():
                raise ActionError(_("A rule with this code exists."), code="duplicate")
            rule = ComplianceRule(shop=shop, **values)
        else:
            changed = [name for name, value in values.items() if getattr(rule, name) != value]
            if not changed:
                return rule, False
            for name in changed:
                setattr(rule, name, values[name])
        rule.updated_by = user
        rule.save()
        bump_revision(shop.id)
        audit.record(
            user,
            AuditAction.RULE,
            shop_id=shop.id,
            subject=f"rule {rule.code}",
            data={"rule_id": rule.id, "fields": sorted(k for k in fields if k in RULE_FIELDS)},
        )
    return rule, True


def save_settings(user, shop, fields: Mapping[str, Any]) -> ComplianceSettings:
    from . import audit

    settings = ensure_settings(shop)
    allowed = ("free_shipping", "remote_regions", "ship_within_hours", "authority_limits")
    changed = {k: v for k, v in fields.items() if k in allowed and getattr(settings, k) != v}
    if changed:
        with transaction.atomic():
            for name, value in changed.items():
                setattr(settings, name, value)
            settings.save(update_fields=list(changed))
            bump_revision(shop.id)
            audit.record(
                user,
                AuditAction.RULE,
                shop_id=shop.id,
                subject="settings",
                data={"fields": sorted(changed)},
            )
    return settings
