"""Webhook signatures, both schemes the daemon uses.

* `X-Botcadence-Signature`: lowercase hex HMAC-SHA256 of the raw body bytes, keyed with the
  secret's text exactly as shown (`whsec_...` included) -- what the API reference's
  `verifySignature` computes.
* Standard Webhooks (https://www.standardwebhooks.com/): `webhook-id`, `webhook-timestamp`,
  `webhook-signature` (space-separated `v1,<base64>` entries); the MAC of
  `id.timestamp.body` keyed with the base64-decoded bytes after `whsec_`.

Both check the exact bytes received: verify before parsing, since re-serialised JSON rarely
gives the same bytes back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from datetime import datetime
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Union, cast

from ._errors import WebhookVerificationError

Payload = Union[bytes, bytearray, memoryview, str]
Secret = Union[str, bytes]
Headers = Union[Mapping[str, str], Iterable[Tuple[str, str]]]

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"expected bytes or str, got {type(value).__name__}")


def sign_payload(payload: Payload, secret: Secret) -> str:
    """The `X-Botcadence-Signature` value for `payload`: lowercase hex HMAC-SHA256."""
    return hmac.new(_as_bytes(secret), _as_bytes(payload), hashlib.sha256).hexdigest()


def verify_signature(payload: Payload, signature: Optional[Union[str, bytes]], secret: Secret) -> bool:
    """Whether `signature` (the `X-Botcadence-Signature` header) is the HMAC of `payload`.

    Same as the reference's `verifySignature`: HMAC-SHA256 of the raw payload bytes keyed with
    the secret's text, lowercase hex, compared in constant time. Returns False -- never
    raises -- for a missing, truncated, non-hex or otherwise wrong signature.
    """
    try:
        expected = sign_payload(payload, secret).encode("ascii")
        given = _as_bytes(signature)
    except (TypeError, UnicodeError):
        return False
    # compare_digest answers False at once on a length mismatch; only equal-length inputs
    # are compared byte by byte in constant time, which is all the timing that matters.
    return hmac.compare_digest(given, expected)


def _standard_key(secret: Secret) -> bytes:
    """The Standard Webhooks key: the base64-decoded bytes after `whsec_`.

    Bytes are taken as the key itself. A text secret that is not base64 (the daemon never
    hands one out) is used as its text, as the daemon does, so signing and verifying agree.
    """
    if isinstance(secret, (bytes, bytearray)):
        key = bytes(secret)
    else:
        text = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
        try:
            key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            key = text.encode("utf-8")
    if not key:
        raise WebhookVerificationError("The webhook secret is empty")
    return key


def _standard_mac(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    signed = msg_id.encode("utf-8") + b"." + timestamp.encode("utf-8") + b"." + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def _lower_headers(headers: Headers) -> Dict[str, str]:
    # Not only Mappings: http.client's and most frameworks' header objects have items() too.
    items = cast(Any, headers).items() if hasattr(headers, "items") else headers
    lowered: Dict[str, str] = {}
    for name, value in items:
        # The first occurrence wins, as most frameworks' single-value lookups do.
        lowered.setdefault(str(name).lower(), value if isinstance(value, str) else str(value))
    return lowered


def _now_seconds(now: Optional[Union[float, int, datetime]]) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        return now.timestamp()
    return float(now)


def verify_standard_webhook(
    payload: Payload,
    headers: Headers,
    secret: Secret,
    *,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: Optional[Union[float, int, datetime]] = None,
) -> None:
    """Checks a Standard Webhooks signature; raises `WebhookVerificationError` if it fails.

    `headers` may be any mapping (or list of pairs) of the request's headers; names are
    matched case-insensitively. The timestamp must be within `tolerance_seconds` of `now`
    (default: the current time) in either direction, which bounds how long a captured
    request can be replayed. Any one matching `v1,` entry suffices (that is how a sender
    rotates keys).
    """
    try:
        body = _as_bytes(payload)
    except TypeError as e:
        raise WebhookVerificationError(str(e)) from None
    found = _lower_headers(headers)
    msg_id = found.get("webhook-id")
    timestamp = found.get("webhook-timestamp")
    signatures = found.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        raise WebhookVerificationError(
            "Missing webhook-id, webhook-timestamp or webhook-signature header"
        )
    try:
        sent_at = int(timestamp.strip())
    except ValueError:
        raise WebhookVerificationError("The webhook-timestamp header is not unix seconds") from None
    current = _now_seconds(now)
    if sent_at < current - tolerance_seconds:
        raise WebhookVerificationError("The webhook timestamp is too old")
    if sent_at > current + tolerance_seconds:
        raise WebhookVerificationError("The webhook timestamp is too new")

    expected = _standard_mac(_standard_key(secret), msg_id, timestamp, body)
    for entry in signatures.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(candidate, expected):
            return
    raise WebhookVerificationError("No webhook-signature entry matches the payload")


def sign_standard_webhook(
    payload: Payload,
    secret: Secret,
    *,
    msg_id: Optional[str] = None,
    timestamp: Optional[Union[int, datetime]] = None,
) -> Dict[str, str]:
    """Standard Webhooks headers for `payload`, as a sender writes them.

    Useful to send events to a hook created with `"verify": "hmac_sha256"`, and in tests of
    a receiver. `msg_id` defaults to a fresh random id; `timestamp` to now.
    """
    if msg_id is None:
        msg_id = "msg_" + uuid.uuid4().hex
    if timestamp is None:
        seconds = int(time.time())
    elif isinstance(timestamp, datetime):
        seconds = int(timestamp.timestamp())
    else:
        seconds = int(timestamp)
    stamp = str(seconds)
    mac = _standard_mac(_standard_key(secret), msg_id, stamp, _as_bytes(payload))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(mac).decode("ascii"),
    }
