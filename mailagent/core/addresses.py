"""Which addresses a draft may go to: one check, in the core, for every provider.

Design notes:

- A recipient must be one plain addr-spec (RFC 5322 section 3.4.1, the dot-atom form): an
  ASCII local part of at most 64 characters (RFC 5321 section 4.5.3.1.1), "@", and a host
  name, at most 254 characters in all (RFC 5321 section 4.5.3.1.3, the path limit less its
  brackets). Quoted local parts, comments, display names, address lists ("a@x, b@y") and any
  white space or control character (a CR LF that would start a new header) are refused, not
  repaired: a calendar attendee or a header that needs repair is not a person to write to.
- An internationalised domain is accepted when it converts to its ASCII form (IDNA 2003, as
  the standard library's "idna" codec does); the local part stays ASCII (no SMTPUTF8).
- This is at most as permissive as the renderer of every provider (providers/mime.py), so an
  address accepted here is never refused when the draft is written.
- Pure: no I/O. The patterns have no nested quantifiers and see at most `MAX_LENGTH`
  characters.
"""

from __future__ import annotations

import re

__all__ = ["MAX_LENGTH", "address_problem", "is_valid_address", "require_valid"]

MAX_LENGTH = 254
"""RFC 5321 section 4.5.3.1.3: a path is at most 256 octets, two of them the angle brackets."""

MAX_LOCAL = 64
"""RFC 5321 section 4.5.3.1.1."""

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_LOCAL_PART = re.compile(rf"[{_ATEXT}]+(?:\.[{_ATEXT}]+)*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
"""At least two labels: a dotless domain is not deliverable on the internet (RFC 7085)."""


def address_problem(address: str) -> str:
    """Why `address` cannot be a draft's recipient, in words; empty when it can."""
    if not address:
        return "no address"
    if len(address) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return "not an email address (no local part and @)"
    if len(local) > MAX_LOCAL or not _LOCAL_PART.fullmatch(local):
        return (
            "not one plain address (white space, a line break, a comma, quotes or brackets in it)"
        )
    if "=?" in local:
        return "an encoded word, not an address"  # a reader could decode it into a header
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return "its domain is not a valid internationalised name"
    if len(local) + 1 + len(domain) > MAX_LENGTH or not _HOST_NAME.fullmatch(domain):
        return "its domain is not a host name"
    return ""


def is_valid_address(address: str) -> bool:
    """Whether a draft may be addressed to `address` (see `address_problem`)."""
    return not address_problem(address)


def require_valid(address: str, role: str = "recipient") -> str:
    """`address` unchanged if a draft may go to it, else ValueError (which the runner logs as
    a skipped draft): the providers' last check before a recipient leaves the machine."""
    problem = address_problem(address)
    if problem:
        raise ValueError(f"{role} address {address[:80]!r}: {problem}")
    return address
