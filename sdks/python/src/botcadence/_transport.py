"""Sending one logical API call: URL building, headers, retries, timeouts, error mapping.

http.client is used rather than urllib.request because a call needs what urllib hides: the
status and body of every answer (urllib raises on 4xx/5xx), the exact moment the request
left (a connection refused before sending is always safe to retry; one reset after sending
is only safe when the daemon can recognise the retry), and control over the socket's
timeout as the call's deadline approaches.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import platform
import random
import socket
import ssl
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional
from urllib.parse import quote, urlencode, urlsplit

from ._errors import BotcadenceConnectionError, BotcadenceError, BotcadenceTimeoutError
from ._version import __version__

DEFAULT_BASE_URL = "https://api.botcadence.com"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
# Statuses that say "this attempt did nothing lasting, try again".
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Statuses after which even a request the daemon cannot deduplicate may be sent again:
# the daemon answers these before acting (a 429/503 "stores nothing", a 408 means the body
# never arrived).
NOTHING_DONE_STATUSES = frozenset({408, 429, 503})
# A longer Retry-After means the caller is better off deciding what to do than blocking.
MAX_RETRY_AFTER = 60.0
BACKOFF_INITIAL = 0.5
BACKOFF_MAX = 8.0

_DEFAULT_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
    504: "gateway_timeout",
}

USER_AGENT = "botcadence-python/{} ({} {})".format(
    __version__, platform.python_implementation(), platform.python_version()
)


class _Nothing:
    """Marks an argument that was not given (distinct from an explicit None)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Any = _Nothing()


def normalize_base_url(url: str) -> str:
    """`https://host`, `https://host/`, `https://host/v1` and `https://host/v1/` all mean the
    same daemon: the reference writes the base URL with `/v1`, while the API's paths (and
    this SDK's) start with `/v1`, `/admin/v1` or `/webhooks`."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url must be an http:// or https:// URL, got {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"base_url must not carry a query or fragment, got {url!r}")
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")].rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


def resolve_base_url(explicit: Optional[str]) -> str:
    """Constructor option, then `BOTCADENCE_BASE_URL`, then the hosted API."""
    chosen = explicit or os.environ.get("BOTCADENCE_BASE_URL") or DEFAULT_BASE_URL
    return normalize_base_url(chosen)


def backoff_delay(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Wait before retry number `attempt + 1`: 0.5 s x 2^attempt capped at 8 s, scaled by a
    random factor in [0.5, 1] so that many clients failing together do not retry together."""
    # The exponent is bounded so a huge attempt number cannot overflow the float.
    ceiling = min(BACKOFF_INITIAL * 2.0 ** min(attempt, 16), BACKOFF_MAX)
    return ceiling * (0.5 + 0.5 * rand())


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(seconds, 0.0)


def path_segment(value: str) -> str:
    """An id placed in a path: every reserved character escaped, so an id can never reach
    another route."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty id, got {value!r}")
    return quote(value, safe="")


def rfc3339(moment: datetime) -> str:
    """A datetime as the API writes times; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return rfc3339(value)
    return str(value)


def encode_query(params: Optional[Mapping[str, Any]]) -> str:
    if not params:
        return ""
    pairs = [(k, _query_value(v)) for k, v in params.items() if v is not None and v is not NOT_GIVEN]
    return urlencode(pairs) if pairs else ""


def _merge_headers(into: Dict[str, str], extra: Mapping[str, str]) -> None:
    """Header names are case-insensitive: a caller's `idempotency-key` replaces ours rather
    than going out as a second header next to it."""
    for name, value in extra.items():
        for existing in [k for k in into if k.lower() == name.lower()]:
            del into[existing]
        into[name] = value


class _NoAnswer(Exception):
    """One attempt that got no complete answer."""

    def __init__(self, reason: str, *, sent: bool, timed_out: bool = False, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.sent = sent
        self.timed_out = timed_out
        self.permanent = permanent


class _Answer:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: Dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


def _error_from_answer(answer: _Answer, attempts: int) -> BotcadenceError:
    status = answer.status
    text = answer.body.decode("utf-8", errors="replace")
    code = _DEFAULT_CODES.get(status, "http_error")
    message = http.client.responses.get(status, "HTTP error") if not text.strip() else text.strip()[:500]
    details = None
    try:
        envelope = json.loads(text)
    except ValueError:
        envelope = None
    if isinstance(envelope, dict) and isinstance(envelope.get("error"), dict):
        body = envelope["error"]
        code = str(body.get("code") or code)
        message = str(body.get("message") or message)
        details = body.get("details")
    return BotcadenceError(
        message,
        status=status,
        code=code,
        details=details,
        request_id=answer.headers.get("x-request-id"),
        retry_after=parse_retry_after(answer.headers.get("retry-after")),
        attempts=attempts,
        headers=answer.headers,
        body=text,
    )


class Transport:
    """Holds a client's settings and sends its requests. Safe to share between threads: it
    keeps no connection state (each attempt opens its own connection)."""

    def __init__(
        self,
        api_key: Optional[str],
        *,
        base_url: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Optional[Mapping[str, str]] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        if timeout is None or timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        if max_retries is None or max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.api_key = api_key
        self.base_url = resolve_base_url(base_url)
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.default_headers = dict(default_headers or {})
        self.ssl_context = ssl_context
        # Indirections the tests replace to observe waits without waiting.
        self._sleep: Callable[[float], None] = time.sleep
        self._random: Callable[[], float] = random.random

    # -- one logical call -------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        json_body: Any = NOT_GIVEN,
        raw_body: Optional[bytes] = None,
        url: Optional[str] = None,
        auth: bool = True,
        idempotency_key: Any = NOT_GIVEN,
        headers_for_attempt: Optional[Callable[[bytes], Mapping[str, str]]] = None,
        expect: str = "json",
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Any:
        """Sends `method path` until it succeeds or may no longer be retried.

        `idempotency_key`: NOT_GIVEN sends none; None generates one (UUID v4) for this call;
        a string is used as given. The same key goes with every attempt of the call, which is
        what lets the daemon recognise a retry of a request whose answer was lost.
        """
        target = url if url is not None else self.base_url + path
        query_string = encode_query(query)
        if query_string:
            target += ("&" if "?" in target else "?") + query_string

        body: Optional[bytes]
        if raw_body is not None:
            body = raw_body
        elif json_body is not NOT_GIVEN:
            body = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        else:
            body = None

        headers: Dict[str, str] = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json" if expect == "json" else "text/plain, */*",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        if auth and self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if idempotency_key is not NOT_GIVEN:
            headers["Idempotency-Key"] = idempotency_key if idempotency_key else str(uuid.uuid4())
        _merge_headers(headers, self.default_headers)
        if extra_headers:
            _merge_headers(headers, extra_headers)

        # A request the daemon can recognise when it arrives twice may be re-sent after any
        # failure; a POST without an Idempotency-Key only when it surely did nothing.
        has_key = any(name.lower() == "idempotency-key" for name in headers)
        replay_safe = method.upper() != "POST" or has_key
        # Whether an earlier attempt of this call went out and got no answer. A retry of it
        # that the daemon answers 409 `conflict` found that attempt still running under the
        # same key (a finished one would have been replayed): waiting and retrying gets its
        # answer, where giving up would report a failure for a request that succeeds.
        unanswered = False
        per_attempt = float(timeout) if timeout is not None else self.timeout
        if per_attempt <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        retries = self.max_retries if max_retries is None else int(max_retries)

        attempt = 0
        while True:
            sent_headers = dict(headers)
            if headers_for_attempt is not None:
                sent_headers.update(headers_for_attempt(body or b""))
            try:
                answer = self._send_once(method, target, sent_headers, body, per_attempt)
            except _NoAnswer as failure:
                may_retry = (
                    attempt < retries
                    and not failure.permanent
                    and (replay_safe or not failure.sent)
                )
                if not may_retry:
                    if failure.timed_out:
                        raise BotcadenceTimeoutError(
                            f"No answer from {method} {target} within {per_attempt:g} s",
                            attempts=attempt + 1,
                        ) from None
                    raise BotcadenceConnectionError(
                        f"{method} {target} failed: {failure.reason}", attempts=attempt + 1
                    ) from None
                unanswered = unanswered or failure.sent
                delay = backoff_delay(attempt, self._random)
            else:
                if 200 <= answer.status < 300:
                    return self._decode(answer, expect)
                error = _error_from_answer(answer, attempt + 1)
                may_retry = attempt < retries and (
                    (answer.status in RETRY_STATUSES
                     and (replay_safe or answer.status in NOTHING_DONE_STATUSES))
                    or (answer.status == 409 and error.code == "conflict"
                        and unanswered and has_key)
                )
                if not may_retry:
                    raise error
                if error.retry_after is not None:
                    if error.retry_after > MAX_RETRY_AFTER:
                        raise error
                    delay = error.retry_after
                else:
                    delay = backoff_delay(attempt, self._random)
            self._sleep(delay)
            attempt += 1

    @staticmethod
    def _decode(answer: _Answer, expect: str) -> Any:
        if expect == "text":
            return answer.body.decode("utf-8", errors="replace")
        if answer.status == 204 or not answer.body.strip():
            return None
        try:
            return json.loads(answer.body.decode("utf-8"))
        except ValueError:
            return answer.body.decode("utf-8", errors="replace")

    # -- one attempt ------------------------------------------------------------------

    def _send_once(
        self, method: str, url: str, headers: Mapping[str, str], body: Optional[bytes], timeout: float
    ) -> _Answer:
        parts = urlsplit(url)
        host = parts.hostname or ""
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        deadline = time.monotonic() + timeout

        def remaining() -> float:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("deadline")
            return left

        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            context = self.ssl_context or ssl.create_default_context()
            conn = http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=context)
        elif parts.scheme == "http":
            conn = http.client.HTTPConnection(host, parts.port, timeout=timeout)
        else:
            raise _NoAnswer(f"unsupported URL scheme {parts.scheme!r}", sent=False, permanent=True)

        sent = False
        try:
            try:
                conn.connect()
            except (socket.timeout, TimeoutError):
                raise _NoAnswer("connect timed out", sent=False, timed_out=True) from None
            except ssl.SSLCertVerificationError as e:
                raise _NoAnswer(f"TLS certificate not accepted: {e}", sent=False, permanent=True) from None
            except OSError as e:
                raise _NoAnswer(f"could not connect: {e}", sent=False) from None
            sock = conn.sock
            try:
                sock.settimeout(remaining())
                # From here on, part of the request may have reached the server.
                sent = True
                conn.request(method, target, body=body, headers=dict(headers))
                sock.settimeout(remaining())
                response = conn.getresponse()
                chunks: List[bytes] = []
                # http.client closes the socket itself once a `Connection: close` answer
                # has been read in full; stop there rather than touch a closed socket.
                while not response.isclosed():
                    sock.settimeout(remaining())
                    chunk = response.read(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                status = response.status
                answer_headers = {k.lower(): v for k, v in response.getheaders()}
            except (socket.timeout, TimeoutError):
                raise _NoAnswer("timed out", sent=sent, timed_out=True) from None
            except (http.client.HTTPException, OSError) as e:
                reason = str(e) or type(e).__name__
                raise _NoAnswer(f"connection lost: {reason}", sent=sent) from None
        finally:
            conn.close()
        return _Answer(status, answer_headers, b"".join(chunks))

