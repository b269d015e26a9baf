"""One page of a longer list, and the bounds a list query pages and filters within.

The bounds keep what reaches the database something it can take: `OFFSET (page - 1) * per_page` must
fit in 64 bits, and a date range must leave room for the day after its end (year 9999 has none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement

from app.clock import CHINA_TZ

MAX_PAGE = 100_000
MAX_PER_PAGE = 100
# Dates a filter, a reply date or a report can name: far wider than any case's life, far from the
# calendar's ends.
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2199, 12, 31)

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of every paged list."""
        return {"items": list(self.items), "page": self.page, "per_page": self.per_page, "total": self.total,
                "pages": self.pages}


def window(page: int, per_page: int, max_per_page: int = MAX_PER_PAGE) -> tuple[int, int]:
    """A page number within 1..MAX_PAGE and a page size within 1..max_per_page."""
    return min(max(page, 1), MAX_PAGE), min(max(per_page, 1), max_per_page)


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` rows fill (an empty list still has its one, empty, page)."""
    return max(1, -(-total // per_page))


def offset(page: int, per_page: int) -> int:
    return (page - 1) * per_page


def clamp_date(day: date) -> date:
    """A filter's date within FIRST_DATE..LAST_DATE."""
    return min(max(day, FIRST_DATE), LAST_DATE)


def on_days(column: ColumnElement[datetime] | Any, since: date | None, until: date | None
            ) -> list[ColumnElement[bool]]:
    """The conditions for a moment `column` to fall on the days `since` to `until`, both included and
    either open. Filters name days as the pages show them, in China's time, whatever the database stores."""
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(column >= _day_start(since))
    if until is not None:
        conditions.append(column < _day_start(clamp_date(until) + timedelta(days=1)))
    return conditions


def _day_start(day: date) -> datetime:
    return datetime.combine(clamp_date(day), time(), CHINA_TZ)
