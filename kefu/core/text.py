"""Checks on text a person typed, shared by every channel."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .errors import ActionError


def clean_message_text(text: object, max_chars: int) -> str:
    """The text to store, or ActionError with a code the clients understand."""
    if not isinstance(text, str):
        raise ActionError(_("The message text must be a string."), code="bad_frame")
    text = text.replace("\x00", "").strip()
    if not text:
        raise ActionError(_("The message is empty."), code="empty_text")
    if len(text) > max_chars:
        raise ActionError(
            _("The message is too long: %(length)d characters, at most %(limit)d.")
            % {"length": len(text), "limit": max_chars},
            code="text_too_long",
        )
    return text


def clean_client_id(client_id: object) -> str:
    if not isinstance(client_id, str) or not (1 <= len(client_id) <= 64):
        raise ActionError(_("client_id must be a string of 1 to 64 characters."), code="bad_frame")
    return client_id


def one_line(value: object, max_chars: int) -> str:
    """A short free text as stored (a reason, a note): runs of white space
    collapsed to one space, cut at `max_chars`."""
    return " ".join(str(value or "").split())[:max_chars]
