from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from . import actions


class LockoutAuthenticationForm(AuthenticationForm):
    """Login that locks a user name after repeated failures (5 in 15 minutes
    lock it for 15 minutes; a supervisor can unlock it earlier)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _(
            "Too many failed logins. This account is locked until %(until)s; "
            "ask a supervisor to unlock it."
        ),
    }

    def clean(self):
        username = (self.data.get("username") or "")[:150]
        until = actions.locked_until(username) if username else None
        if until:
            raise forms.ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"until": formats.date_format(until.astimezone(), "H:i")},
            )
        try:
            return super().clean()
        except forms.ValidationError:
            if username and actions.record_login_failure(username, self._ip()):
                until = actions.locked_until(username)
                raise forms.ValidationError(
                    self.error_messages["locked"],
                    code="locked",
                    params={"until": formats.date_format(until.astimezone(), "H:i")},
                ) from None
            raise

    def _ip(self) -> str | None:
        return self.request.META.get("REMOTE_ADDR") if self.request else None

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        actions.record_login_success(user.get_username())
