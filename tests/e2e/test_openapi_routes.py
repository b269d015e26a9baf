"""The OpenAPI document lists every route of the API with its methods, and every numeric row id in a URL
is matched by the bounded `id` converter (a larger number is a 404, not a database error)."""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter

from app.converters import DatabaseId

PREFIX = "/api/v1"


def _shape(path: str) -> str:
    """A path with its parameters blanked: `/cases/<case_no>/x` and `/cases/{case_no}/x` are the same."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def test_every_api_route_is_in_the_openapi_document(app, api):
    doc = api.get("/openapi.json").get_json()
    documented = {(_shape(path), method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routed = {(_shape(rule.rule.removeprefix(PREFIX)), method) for rule in app.url_map.iter_rules()
              if rule.rule.startswith(PREFIX + "/") for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed - documented == set()
    assert documented - routed == set()


def test_every_numeric_row_id_in_a_url_uses_the_id_converter(app):
    loose = [f"{rule.rule} ({name})" for rule in app.url_map.iter_rules()
             for name, converter in rule._converters.items()
             if name.endswith("_id") and isinstance(converter, IntegerConverter)
             and not isinstance(converter, DatabaseId)]
    assert loose == []
