"""Is this delivery from the upstream, and fresh? Two signing styles.

Standard Webhooks (mossdesk, template): `webhook-id`, `webhook-timestamp` (Unix
seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
possibly several space-separated; the key is the base64 part of a `whsec_` secret
(a secret without that prefix is used as its UTF-8 bytes).
The `standardwebhooks` package decodes the secret and signs; the comparison is ours,
because its `verify` has a fixed 5-minute tolerance and lets a malformed signature
list escape as a bare ValueError.

MOCO (seed 002): `X-Moco-Signature` is the hex HMAC-SHA256 of the raw body, keyed by
the 32-hex key as text; `X-Moco-Timestamp` is in milliseconds and is not signed, so
its freshness check stops only naive replays (README: "Webhooks").

Every comparison is constant-time. Nothing here logs, and errors never carry a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from standardwebhooks import Webhook

Style = Literal["standard", "moco"]

MAX_HEADER_CHARS = 1024  # a signature header longer than this is nobody's
MAX_SIGNATURES = 8  # per `webhook-signature` header (secret rotation needs two)


class BadSignature(Exception):
    """401: not from the upstream, or too old / too new. The message is safe to return."""


@dataclass(frozen=True)
class Verified:
    delivery_id: str  # what the sender says identifies this delivery (retries reuse it)
    sent_at: float  # Unix seconds
    replay_key: str  # what must not be seen twice within the tolerance


class Verifier:
    def __init__(self, style: Style, secret: str, tolerance: float) -> None:
        self.style = style
        self.tolerance = tolerance
        if style == "standard":
            # A secret without the prefix is its UTF-8 bytes (what `Webhook(bytes)` takes).
            key: str | bytes = secret if secret.startswith("whsec_") else secret.encode()
            try:
                self._standard = Webhook(key)
            except Exception:  # the library raises several kinds for a bad secret
                raise ValueError("not a whsec_ base64 secret") from None
        self._moco_key = secret.encode()

    def verify(self, headers: dict[str, str], body: bytes, now: float) -> Verified:
        """`headers` with lower-case names. Raises BadSignature."""
        if self.style == "standard":
            return self._verify_standard(headers, body, now)
        return self._verify_moco(headers, body, now)

    def _fresh(self, sent_at: float, now: float) -> None:
        if abs(now - sent_at) > self.tolerance:
            raise BadSignature("timestamp outside the allowed window")

    def _verify_standard(self, headers: dict[str, str], body: bytes, now: float) -> Verified:
        delivery_id = _header(headers, "webhook-id")
        timestamp = _header(headers, "webhook-timestamp")
        given = _header(headers, "webhook-signature")
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise BadSignature("webhook-timestamp is not Unix seconds")
        self._fresh(float(timestamp), now)
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise BadSignature("body is not UTF-8") from None
        when = datetime.fromtimestamp(int(timestamp), tz=UTC)
        expected = base64.b64decode(self._standard.sign(delivery_id, when, text).split(",", 1)[1])
        for candidate in given.split(" ")[:MAX_SIGNATURES]:
            version, _, encoded = candidate.partition(",")
            if version != "v1":
                continue
            try:
                signature = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                continue
            if hmac.compare_digest(expected, signature):
                return Verified(delivery_id, float(timestamp), f"id:{delivery_id}")
        raise BadSignature("no matching signature")

    def _verify_moco(self, headers: dict[str, str], body: bytes, now: float) -> Verified:
        given = _header(headers, "x-moco-signature").strip().lower()
        timestamp = _header(headers, "x-moco-timestamp")
        if not timestamp.isdigit() or len(timestamp) > 15:
            raise BadSignature("X-Moco-Timestamp is not Unix milliseconds")
        expected = hmac.new(self._moco_key, body, hashlib.sha256).hexdigest()
        # Compared before the time, so an unsigned request learns nothing about the window.
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise BadSignature("signature does not match")
        sent_at = int(timestamp) / 1000
        self._fresh(sent_at, now)
        # MOCO deliveries carry no id; a retry repeats the body, hence the signature.
        return Verified(f"moco:{expected[:32]}", sent_at, f"sig:{expected}")


def _header(headers: dict[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise BadSignature(f"missing header {name}")
    if len(value) > MAX_HEADER_CHARS:
        raise BadSignature(f"header {name} is too long")
    return value
