"""Webhook secrets and signatures, in the two formats the documents describe.

- Standard Webhooks (mossdesk and template styles, https://www.standardwebhooks.com/):
  ``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` keyed with
  the base64-decoded part of a ``whsec_`` secret. A secret the caller chose without the
  ``whsec_`` prefix (seed 004 shows ``"your_secret"``) keys the HMAC with its UTF-8 bytes,
  which is what ``standardwebhooks.Webhook(secret.encode())`` verifies.
- MOCO (seed 002): ``X-Moco-Signature: <hex HMAC-SHA256 of the raw body>`` keyed with the
  hook's 32-character hexadecimal key, used as text (as the seed's OpenSSL, Ruby and Node
  examples do).

Written by hand on purpose: the sim is an independent implementation of the documents,
and its tests verify these signatures with the ``standardwebhooks`` library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

WHSEC_PREFIX = "whsec_"
# Standard Webhooks asks for secrets between 24 and 64 bytes.
WHSEC_MIN_BYTES = 24
WHSEC_MAX_BYTES = 64
MOCO_SECRET_RE = re.compile(r"^[0-9a-f]{32}$")


def new_secret(style: str) -> str:
    """A fresh secret in the style's documented shape."""
    if style == "moco":
        return secrets.token_hex(16)
    return WHSEC_PREFIX + base64.b64encode(secrets.token_bytes(WHSEC_MIN_BYTES)).decode()


def secret_problem(style: str, secret: str) -> str | None:
    """Why a caller-chosen secret cannot be used in this style, or None when it can."""
    if not secret:
        return "secret must not be empty"
    if style == "moco":
        if not MOCO_SECRET_RE.match(secret):
            return "secret must be 32 lowercase hexadecimal characters"
        return None
    if secret.startswith(WHSEC_PREFIX):
        try:
            key = base64.b64decode(secret[len(WHSEC_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            return "a whsec_ secret must be followed by standard base64"
        if not WHSEC_MIN_BYTES <= len(key) <= WHSEC_MAX_BYTES:
            return f"a whsec_ secret must encode {WHSEC_MIN_BYTES} to {WHSEC_MAX_BYTES} bytes"
    return None


def standard_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (see the module docstring)."""
    if secret.startswith(WHSEC_PREFIX):
        return base64.b64decode(secret[len(WHSEC_PREFIX) :])
    return secret.encode()


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = msg_id.encode() + b"." + str(timestamp).encode() + b"." + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def moco_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
