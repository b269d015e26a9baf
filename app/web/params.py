"""Reading numbers and dates from a page's query string or form, strictly and within bounds.

`str.isdigit()` accepts "²" (which `int()` refuses), `int()` accepts "1_000", " 7 " and other scripts'
digits, and `date.fromisoformat` accepts year 9999 (which has no day after its last): values are checked
here instead, so a typed-in URL or a tampered form gets a page with a message, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from app.services.paging import FIRST_DATE, LAST_DATE, MAX_PAGE

_DIGITS = frozenset("0123456789")


def strict_int(raw: Any, low: int, high: int) -> int | None:
    """A whole number in ASCII digits within low..high (low ≥ 0), else None."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text or len(text) > len(str(high)) or not set(text) <= _DIGITS:
        return None
    value = int(text)
    return value if low <= value <= high else None


def page_arg(args: Mapping[str, Any], name: str = "page") -> int:
    """The page number asked for, clamped to 1..MAX_PAGE; page 1 when it is not a number."""
    text = args.get(name) or ""
    if not isinstance(text, str) or not text or len(text) > 40 or not set(text) <= _DIGITS:
        return 1
    return min(max(int(text), 1), MAX_PAGE)


class DateOutOfRange(ValueError):
    """A real date, but outside FIRST_DATE..LAST_DATE."""


def date_arg(raw: Any) -> date:
    """A date written YYYY-MM-DD within FIRST_DATE..LAST_DATE.

    :raises ValueError: not a date. :raises DateOutOfRange: outside the window.
    """
    day = date.fromisoformat(raw.strip() if isinstance(raw, str) else "")
    if not FIRST_DATE <= day <= LAST_DATE:
        raise DateOutOfRange(f"{day} is outside {FIRST_DATE}..{LAST_DATE}")
    return day
