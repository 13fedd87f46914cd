"""The errors a call can raise.

`BotcadenceError` is the one type to catch. When the daemon answered, `status` is the HTTP
status and `code`, `message`, `details` come from its error envelope. When no answer came
(refused, reset, timed out), the error is a `BotcadenceConnectionError` (or its subclass
`BotcadenceTimeoutError`) with `status` 0: the caller can tell "nobody said anything" from
"the server said no", which matters for deciding whether a write may have happened.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional


class BotcadenceError(Exception):
    """An API call that did not succeed.

    Attributes:
        status: HTTP status, or 0 when no answer arrived.
        code: the machine-readable code (`not_found`, `invalid_request`, `rate_limited`, ...).
        message: the human-readable message.
        details: the envelope's `details` (e.g. `{"field": "name", "issue": "required"}`) or None.
        request_id: the answer's `X-Request-Id`, or None when there was no answer.
        retry_after: seconds the server asked to wait (`Retry-After`), or None.
        attempts: how many times the request was sent before giving up.
        headers: the answer's headers (lower-case names); empty when there was no answer.
        body: the answer's raw body text, for answers that were not an error envelope.
    """

    status: int
    code: str
    message: str
    details: Optional[Any]
    request_id: Optional[str]
    retry_after: Optional[float]
    attempts: int
    headers: Mapping[str, str]
    body: Optional[str]

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        code: str = "unknown_error",
        details: Optional[Any] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        attempts: int = 1,
        headers: Optional[Mapping[str, str]] = None,
        body: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.request_id = request_id
        self.retry_after = retry_after
        self.attempts = attempts
        self.headers = dict(headers or {})
        self.body = body

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status else "no answer"
        text = f"{self.code}: {self.message} ({where}"
        if self.request_id:
            text += f", request {self.request_id}"
        return text + ")"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class BotcadenceConnectionError(BotcadenceError):
    """No answer: the connection was refused, reset or closed before a full answer."""

    def __init__(self, message: str, *, code: str = "connection_error", attempts: int = 1) -> None:
        super().__init__(message, status=0, code=code, attempts=attempts)


class BotcadenceTimeoutError(BotcadenceConnectionError):
    """No answer within the call's timeout."""

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message, code="timeout", attempts=attempts)


class WebhookVerificationError(Exception):
    """A webhook whose signature, headers or timestamp did not check out."""
