"""Base64 as the Google JSON APIs use it: written URL-safe (raw messages, attachment ids, and the
emulator's page and sync tokens) and read back in any of the four spellings proto3 JSON accepts,
standard or URL-safe, padded or not."""

from __future__ import annotations

import base64


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def b64decode_any(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (proto3 JSON accepts all four)."""
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    return base64.b64decode(cleaned, validate=True)
