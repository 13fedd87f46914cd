"""Signature functions with fixed vectors, edge cases, and the official `standardwebhooks`
package on the other side."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone

import pytest

from botcadence import (
    WebhookVerificationError,
    sign_payload,
    sign_standard_webhook,
    verify_signature,
    verify_standard_webhook,
)

# RFC 4231, test case 2 (also the daemon's own vector).
JEFE_SIG = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
FOX_SIG = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"

# The Standard Webhooks specification's example.
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TS = 1614265330
SW_BODY = '{"test": 2432232314}'
SW_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SW_HEADERS = {"webhook-id": SW_ID, "webhook-timestamp": str(SW_TS), "webhook-signature": SW_SIG}


# -- X-Botcadence-Signature --------------------------------------------------------------

def test_hex_signature_known_vectors() -> None:
    assert sign_payload("what do ya want for nothing?", "Jefe") == JEFE_SIG
    assert verify_signature(b"what do ya want for nothing?", JEFE_SIG, "Jefe")
    assert verify_signature("The quick brown fox jumps over the lazy dog", FOX_SIG, "key")
    assert verify_signature(bytearray(b"The quick brown fox jumps over the lazy dog"),
                            FOX_SIG.encode(), b"key")


def test_hex_signature_keyed_with_the_secret_text_whsec_included() -> None:
    secret = "whsec_" + base64.b64encode(b"\x01" * 24).decode()
    body = b'{"n":"1"}'
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert sign_payload(body, secret) == expected
    assert verify_signature(body, expected, secret)


@pytest.mark.parametrize("bad", [
    "", JEFE_SIG[:-2], JEFE_SIG[:2], JEFE_SIG + "00", JEFE_SIG.upper(), "zz" * 32, "é" * 64,
    " " + JEFE_SIG, None, 12345,
])
def test_hex_signature_wrong_values_are_false_never_raise(bad: object) -> None:
    assert verify_signature("what do ya want for nothing?", bad, "Jefe") is False  # type: ignore[arg-type]


def test_hex_signature_one_byte_changed_fails() -> None:
    assert not verify_signature("what do ya want for nothing!", JEFE_SIG, "Jefe")
    assert not verify_signature("what do ya want for nothing?", JEFE_SIG, "Jeff")


def test_hex_signature_bad_payload_type_is_false() -> None:
    assert verify_signature(None, JEFE_SIG, "Jefe") is False  # type: ignore[arg-type]


# -- Standard Webhooks --------------------------------------------------------------------

def test_standard_webhook_spec_vector() -> None:
    verify_standard_webhook(SW_BODY, SW_HEADERS, SW_SECRET, now=SW_TS)
    verify_standard_webhook(SW_BODY.encode(), SW_HEADERS, SW_SECRET, now=SW_TS + 300)
    verify_standard_webhook(SW_BODY, SW_HEADERS, SW_SECRET, now=SW_TS - 300)
    verify_standard_webhook(SW_BODY, SW_HEADERS, SW_SECRET,
                            now=datetime.fromtimestamp(SW_TS, tz=timezone.utc))
    assert sign_standard_webhook(SW_BODY, SW_SECRET, msg_id=SW_ID, timestamp=SW_TS) == SW_HEADERS


def test_standard_webhook_key_is_the_decoded_secret() -> None:
    key = base64.b64decode(SW_SECRET[len("whsec_"):])
    verify_standard_webhook(SW_BODY, SW_HEADERS, key, now=SW_TS)
    # Keyed with the text instead, it does not match.
    with pytest.raises(WebhookVerificationError):
        verify_standard_webhook(SW_BODY, SW_HEADERS, SW_SECRET[len("whsec_"):].encode(), now=SW_TS)


def test_standard_webhook_headers_are_case_insensitive_and_may_be_pairs() -> None:
    upper = {k.upper(): v for k, v in SW_HEADERS.items()}
    verify_standard_webhook(SW_BODY, upper, SW_SECRET, now=SW_TS)
    pairs = [("Webhook-Id", SW_ID), ("Webhook-Timestamp", str(SW_TS)), ("Webhook-Signature", SW_SIG)]
    verify_standard_webhook(SW_BODY, pairs, SW_SECRET, now=SW_TS)


def test_standard_webhook_headers_from_http_client_messages() -> None:
    import email.message

    message = email.message.Message()
    for name, value in SW_HEADERS.items():
        message[name.title()] = value
    verify_standard_webhook(SW_BODY, message, SW_SECRET, now=SW_TS)  # type: ignore[arg-type]


def test_standard_webhook_any_v1_entry_may_match() -> None:
    other = "v1," + base64.b64encode(b"\x00" * 32).decode()
    headers = dict(SW_HEADERS, **{"webhook-signature": f"v1a,xyz {other} garbage v1,!!! {SW_SIG}"})
    verify_standard_webhook(SW_BODY, headers, SW_SECRET, now=SW_TS)
    # The right MAC under another version tag is not accepted.
    headers = dict(SW_HEADERS, **{"webhook-signature": SW_SIG.replace("v1,", "v2,")})
    with pytest.raises(WebhookVerificationError):
        verify_standard_webhook(SW_BODY, headers, SW_SECRET, now=SW_TS)


@pytest.mark.parametrize("now", [SW_TS + 301, SW_TS - 301])
def test_standard_webhook_timestamp_tolerance_both_ways(now: int) -> None:
    with pytest.raises(WebhookVerificationError, match="too (old|new)"):
        verify_standard_webhook(SW_BODY, SW_HEADERS, SW_SECRET, now=now)
    verify_standard_webhook(SW_BODY, SW_HEADERS, SW_SECRET, now=now, tolerance_seconds=302)


@pytest.mark.parametrize("change", [
    {"body": SW_BODY.replace("2432", "2433")},
    {"webhook-id": SW_ID + "x"},
    {"webhook-signature": "v1," + base64.b64encode(b"\x01" * 32).decode()},
    {"webhook-signature": ""},
    {"webhook-id": ""},
    {"webhook-timestamp": "soon"},
    {"webhook-timestamp": str(SW_TS + 1)},
])
def test_standard_webhook_failures_raise(change: dict) -> None:
    body = change.pop("body", SW_BODY)
    headers = dict(SW_HEADERS, **change)
    with pytest.raises(WebhookVerificationError):
        verify_standard_webhook(body, headers, SW_SECRET, now=SW_TS)


def test_standard_webhook_missing_headers_raise() -> None:
    with pytest.raises(WebhookVerificationError, match="Missing"):
        verify_standard_webhook(SW_BODY, {"webhook-id": SW_ID}, SW_SECRET, now=SW_TS)


def test_standard_webhook_round_trip_with_a_fresh_timestamp() -> None:
    secret = "whsec_" + base64.b64encode(b"secret-bytes-0123456789ab").decode()
    headers = sign_standard_webhook(b'{"a":1}', secret)
    assert headers["webhook-id"].startswith("msg_")
    verify_standard_webhook(b'{"a":1}', headers, secret)
    with pytest.raises(WebhookVerificationError):
        verify_standard_webhook(b'{"a":2}', headers, secret)


# -- the official library on the other side -------------------------------------------------

def test_official_library_signs_what_we_verify_and_verifies_what_we_sign() -> None:
    standardwebhooks = pytest.importorskip("standardwebhooks")
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()
    official = standardwebhooks.Webhook(secret)
    body = '{"user": {"email": "ada@example.com"}, "n": "é"}'
    now = datetime.now(tz=timezone.utc)
    signature = official.sign("msg_1", now, body)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": signature}
    verify_standard_webhook(body.encode("utf-8"), headers, secret)
    with pytest.raises(WebhookVerificationError):
        verify_standard_webhook(body.encode("utf-8") + b" ", headers, secret)

    ours = sign_standard_webhook(body, secret, msg_id="msg_2")
    assert official.verify(body, ours) == {"user": {"email": "ada@example.com"}, "n": "é"}
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        official.verify(body.replace("ada", "bob"), ours)


def test_official_library_and_legacy_hex_secrets_agree() -> None:
    # Secrets of earlier daemons are whsec_ + 48 hex digits: valid base64, decoded as such.
    standardwebhooks = pytest.importorskip("standardwebhooks")
    secret = "whsec_" + "ab12" * 12
    ours = sign_standard_webhook(b"{}", secret, msg_id="msg_3")
    standardwebhooks.Webhook(secret).verify("{}", ours)
