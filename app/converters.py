"""What every URL is held to, for the API and the pages alike (registered by `create_app`): the
converters, and no NUL character in the path, query or form (PostgreSQL text cannot hold one, so a
lookup by such a value fails with an error instead of finding nothing)."""

from __future__ import annotations

from typing import Any

from flask import abort, request
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


def refuse_nul() -> None:
    """A `before_request` hook: a NUL character in the path, the query or a form field is a 400."""
    values = [request.path, *request.args.values(), *(request.form.values() if request.form else ())]
    if any("\x00" in value for value in values):
        abort(400, description="请求含 NUL 字符 / the request contains a NUL character")
