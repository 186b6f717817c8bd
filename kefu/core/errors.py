"""Errors that actions raise for refused requests; views and consumers turn them
into a clear message (HTTP status or an error frame) and nothing is stored."""

from __future__ import annotations


class ActionError(Exception):
    code = "bad_request"
    status = 400

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(ActionError):
    code = "not_found"
    status = 404


class PermissionDenied(ActionError):
    code = "forbidden"
    status = 403


class RateLimited(ActionError):
    code = "rate_limited"
    status = 429
