"""URL converters shared by the API and the pages, registered app-wide by `create_app`."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

# Row ids are INTEGER columns, 32 bits on PostgreSQL: a larger number names no row, and PostgreSQL
# refuses it as a parameter ("integer out of range") instead of finding nothing.
MAX_ID = 2**31 - 1


class DatabaseId(IntegerConverter):
    """`<id:name>`: a row id, 1..MAX_ID in ASCII digits. Any other value matches no route, so Flask answers
    404 before a view runs (`\\d` would also match other scripts' digits)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


CONVERTERS = {"id": DatabaseId}
