"""Request input: every JSON body of the API is parsed here, once, before its view runs.

Flask's `request.get_json` lets a body nested 100 000 deep raise RecursionError (a 500), and a view
that expects an object would fail on `[1]`, `"x"` or `5`. Here a body that is not JSON, or nested deeper
than MAX_DEPTH, is a 400 for every endpoint (sign-in included); `json_object()` gives the view an object.
A NUL character in a body is a 400 too, as it is in a path or query (app/converters.py): PostgreSQL
text cannot hold one.
"""

from __future__ import annotations

import json
from typing import Any

from flask import g, request

from app.errors import InvalidInput

from . import bp

MAX_DEPTH = 32  # the deepest request any client sends is a form's data, a few levels


@bp.before_request
def _parse_json_body() -> None:
    if not request.is_json:
        return
    raw = request.get_data(cache=True)
    if not raw.strip():
        return
    g.json_body = parse_json(raw)


def parse_json(raw: bytes | str, field: str = "_body") -> Any:
    """JSON text with the checks every body gets (a multipart request's JSON part too).

    :raises InvalidInput: not JSON, nested deeper than MAX_DEPTH, or holding NUL; named `field`.
    """
    try:
        data = json.loads(raw)
    except RecursionError:
        raise _too_deep(field) from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise InvalidInput("请求体不是有效的 JSON / the body is not valid JSON",
                           [{"field": field, "message": f"不是有效的 JSON / not valid JSON: {exc}"[:200]}]) from None
    _check(data, field)
    return data


def json_object() -> dict[str, Any]:
    """The request's JSON body as an object ({} when there is none).

    :raises InvalidInput: the body is JSON but not an object.
    """
    data = g.get("json_body")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("请求体必须是 JSON 对象 / body must be a JSON object",
                           [{"field": "_body", "message": "必须是 JSON 对象 / body must be a JSON object"}])
    return data


def _check(data: Any, field: str = "_body") -> None:
    """Refuse arrays and objects nested deeper than MAX_DEPTH and strings (keys too) holding NUL;
    iterative, so no input can exhaust the stack."""
    stack = [(data, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, str) and "\x00" in node:
            raise _nul(field)
        if isinstance(node, (dict, list)):
            if level > MAX_DEPTH:
                raise _too_deep(field)
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)


def _nul(field: str = "_body") -> InvalidInput:
    return InvalidInput("不能含 NUL 字符 / NUL characters are not allowed",
                        [{"field": field, "message": "不能含 NUL 字符 / must not contain NUL characters"}])


def _too_deep(field: str = "_body") -> InvalidInput:
    return InvalidInput("请求体嵌套过深 / the body is nested too deeply",
                        [{"field": field, "message": f"嵌套不能超过 {MAX_DEPTH} 层 / nested more than {MAX_DEPTH} deep"}])
