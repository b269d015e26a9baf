"""The signed bytes of a licence: its facts as canonical JSON, and Ed25519 over them.

Canonical means: keys sorted, no insignificant whitespace, UTF-8 (not \\u escapes), dates as ISO text. Two
records with the same facts give the same bytes whatever the key order of their content dict, so the
signature depends on the facts alone. No cryptography is written here: `cryptography`'s Ed25519.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# The columns of a licence the signature covers (state and revocation are not facts of the licence:
# revoking must not look like tampering).
SIGNED_FIELDS = ("number", "version", "licence_type", "holder_name", "holder_id", "item_code", "item_name",
                 "department_code", "department_name", "content", "issued_on", "valid_from", "valid_to", "key_id")


def canonical_json(facts: Mapping[str, Any]) -> bytes:
    return json.dumps(facts, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False, default=str).encode("utf-8")


def digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(private: Ed25519PrivateKey, payload: bytes) -> str:
    return b64(private.sign(payload))


def verify(public_key_b64: str, payload: bytes, signature_b64: str) -> bool:
    """True when the signature is the key's over exactly these bytes; any malformed input is False."""
    try:
        Ed25519PublicKey.from_public_bytes(unb64(public_key_b64)).verify(unb64(signature_b64), payload)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def short_signature(signature_b64: str) -> str:
    """What the QR code carries: the first 16 characters (96 bits) identify the signature; the full check
    runs against the record, so the QR stays small enough to scan from paper."""
    return signature_b64[:16]
