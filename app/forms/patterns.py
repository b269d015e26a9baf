"""Regular expressions from form files, matched with a time limit, and the built-in email/phone checks.

Python's `re` has no time limit, so a careless pattern such as `(a|aa)+$` hangs a worker on a
40-character input, and no static check recognises every such pattern. So form patterns run on the
`regex` package, whose matcher stops after `timeout` seconds: a value that takes longer is a field
error (the format could not be checked), never a hung worker. Patterns that do not compile, or are
longer than MAX_PATTERN_LENGTH, are refused when the form is loaded.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import regex

MAX_PATTERN_LENGTH = 500
MAX_PATTERN_INPUT = 1000
PATTERN_TIMEOUT = 0.1  # seconds one value may take to match; a normal pattern needs microseconds

log = logging.getLogger(__name__)


class UnsafePattern(ValueError):
    """A pattern that is invalid or too long."""


class PatternTimeout(Exception):
    """Matching a value took longer than the time limit."""


def compile_pattern(pattern: str) -> Any:
    """Compile a form's `validate.pattern` for full matching (a `regex` pattern object).

    :raises UnsafePattern: too long, or not a valid regular expression.
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePattern(f"pattern longer than {MAX_PATTERN_LENGTH} characters")
    try:
        return regex.compile(pattern)
    except (regex.error, RecursionError, OverflowError, ValueError) as exc:
        raise UnsafePattern(f"invalid regular expression: {exc}") from exc


def full_match(pattern: Any, value: str, timeout: float = PATTERN_TIMEOUT) -> bool:
    """Whether `value` matches the whole of `pattern`.

    :raises PatternTimeout: matching took longer than `timeout` seconds.
    """
    try:
        return pattern.fullmatch(value, timeout=timeout) is not None
    except TimeoutError as exc:
        log.warning("form pattern %r timed out on a %d-character value", pattern.pattern, len(value))
        raise PatternTimeout(pattern.pattern) from exc


_PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{4,30}")


def is_email(value: str) -> bool:
    """A pragmatic address check (one @, a dotted domain, no spaces); written without backtracking."""
    local, at, domain = value.rpartition("@")
    if not at or not local or len(value) > 254 or len(local) > 64 or "@" in local:
        return False
    if any(ch.isspace() for ch in value):
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(labels)


def is_phone(value: str) -> bool:
    """Digits with optional +, spaces, hyphens and parentheses: mainland mobiles, landlines, +86..."""
    digits = sum(ch.isdigit() for ch in value)
    return 5 <= digits <= 20 and _PHONE.fullmatch(value) is not None
