"""GET /openapi.json: the API described from the same marshmallow schemas that parse requests.

Every route of the blueprint is here (tests/e2e/test_openapi_routes.py checks it), so a generated
client or a schema-driven test reaches all of them.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

from marshmallow import Schema, fields, validate

from app.converters import MAX_ID

from . import bp
from .calendar import CalendarDayBody, CalendarEntry, CalendarImport
from .clocks import AlarmQuery, ExtensionDecision, ExtensionRequest, SuspensionStart
from .notifications import NotificationQuery
from .schemas import (
    CaseCreate,
    ItemBody,
    Material,
    Resubmission,
    TaskComplete,
    TaskQuery,
    TokenRequest,
    Withdrawal,
)
from .supervision import DashboardQuery, OrderCreate, OrderQuery, OrderReply

ERRORS = {"description": "错误 / error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}}
BODIES: tuple[type[Schema], ...] = (
    TokenRequest, ItemBody, Material, CaseCreate, TaskComplete, Resubmission, Withdrawal, CalendarDayBody, CalendarImport,
    CalendarEntry, OrderCreate, OrderReply, SuspensionStart, ExtensionRequest, ExtensionDecision)
KINDS = {fields.Integer: "integer", fields.Float: "number", fields.Boolean: "boolean", fields.Dict: "object"}


def _field(field: fields.Field) -> dict[str, Any]:
    if isinstance(field, fields.Nested):
        nested = field.nested if isinstance(field.nested, type) else type(field.nested)
        return {"$ref": f"#/components/schemas/{nested.__name__}"}
    if isinstance(field, fields.List):
        return {"type": "array", "items": _field(field.inner)}
    out: dict[str, Any] = {"type": KINDS.get(type(field), "string")}
    if isinstance(field, fields.Date):
        out["format"] = "date"  # its range (app/services/paging.py) is checked by the API, not described
    for rule in field.validators:
        if isinstance(rule, validate.OneOf):
            out["enum"] = list(rule.choices)
        elif isinstance(rule, validate.Length):
            out.update({k: v for k, v in (("minLength", rule.min), ("maxLength", rule.max)) if v is not None})
        elif isinstance(rule, validate.Range) and not isinstance(field, fields.Date):
            out.update({k: v for k, v in (("minimum", rule.min), ("maximum", rule.max)) if v is not None})
        elif isinstance(rule, validate.Regexp):
            out["pattern"] = rule.regex.pattern
    if field.allow_none:
        out["nullable"] = True
    return out


def schema_of(schema: type[Schema]) -> dict[str, Any]:
    declared = schema._declared_fields
    return {"type": "object", "properties": {n: _field(f) for n, f in declared.items()},
            "required": sorted(n for n, f in declared.items() if f.required)}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def _op(summary: str, ok: str = "200", body: str | None = None, auth: bool = True, **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {ok: {"description": "OK"}, "4XX": ERRORS}}
    if body:
        op["requestBody"] = _body(body)
    if not auth:
        op["security"] = []
    op.update(extra)
    return op


def _path_param(name: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}]


def _id_param(name: str = "id") -> list[dict[str, Any]]:
    """A row id (`<id:...>` in the route, app/converters.py)."""
    return [{"name": name, "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}]


def _query(schema: type[Schema]) -> list[dict[str, Any]]:
    return [{"name": f.data_key or n, "in": "query", "schema": _field(f)} for n, f in schema._declared_fields.items()]


def _paths() -> dict[str, Any]:
    case = _path_param("case_no")
    return {
        "/auth/token": {"post": _op("Sign in: user name and password give a bearer token", body="TokenRequest", auth=False)},
        "/process-definitions": {"post": _op(
            "Deploy a BPMN file (same content: 200 with the existing version)", "201", requestBody={
                "required": True, "content": {
                    "multipart/form-data": {"schema": {"type": "object", "properties": {
                        "file": {"type": "string", "format": "binary"}}}},
                    "application/xml": {"schema": {"type": "string"}}}},
            parameters=[{"name": "filename", "in": "query", "schema": {"type": "string"}}])},
        "/process-definitions/{key}": {"get": _op("Versions of a process with their case counts", parameters=_path_param("key"))},
        "/items": {"get": _op("The public catalogue of items (all=1: inactive ones too, for administrators)", auth=False,
                              parameters=[{"name": "all", "in": "query", "schema": {"type": "string", "enum": ["1"]}}]),
                   "post": _op("Create an item (admin)", "201", body="ItemBody")},
        "/items/{code}": {"get": _op("An item's public guide (an inactive item: administrators only)", auth=False,
                                     parameters=_path_param("code")),
                          "put": _op("Update an item (admin)", body="ItemBody", parameters=_path_param("code"))},
        "/cases": {"post": _op("Apply: start a case for an item", "201", body="CaseCreate")},
        "/cases/{case_no}": {"get": _op("A case: status, stage, process version, open tasks, history, incidents",
                                        parameters=case)},
        "/cases/{case_no}/withdraw": {"post": _op("Withdraw an application not yet accepted (the applicant)",
                                                  body="Withdrawal", parameters=case)},
        "/cases/{case_no}/clocks": {"get": _op("A case's time limits: clocks, special procedures, extensions",
                                               parameters=case)},
        "/cases/{case_no}/suspensions": {"post": _op("Start a special procedure (特别程序): the decision clock stops",
                                                     "201", body="SuspensionStart", parameters=case)},
        "/cases/{case_no}/suspensions/{id}/end": {"post": _op("End a special procedure: the clock runs again",
                                                              parameters=case + _id_param())},
        "/cases/{case_no}/extensions": {"post": _op("Ask the department head for the one extension (延期)", "201",
                                                    body="ExtensionRequest", parameters=case)},
        "/cases/{case_no}/extensions/{id}/decision": {"post": _op(
            "Approve or refuse an extension (the department head)", body="ExtensionDecision",
            parameters=case + _id_param())},
        "/alarms": {"get": _op("Open time-limit alarms, newest first: supervisors all, a department its own (paginated)",
                               parameters=_query(AlarmQuery))},
        "/tasks": {"get": _op("Open tasks, earliest due first (paginated)", parameters=_query(TaskQuery))},
        "/tasks/{id}/claim": {"post": _op("Claim a task", parameters=_path_param("id"))},
        "/tasks/{id}/unclaim": {"post": _op("Give a task back to its groups", parameters=_path_param("id"))},
        "/tasks/{id}/complete": {"post": _op("Complete a task with form data", body="TaskComplete",
                                             parameters=_path_param("id"))},
        "/notifications": {"get": _op("My notifications, newest first (paginated; unread=true: unread only)",
                                      parameters=_query(NotificationQuery))},
        "/notifications/{id}/read": {"post": _op("Mark one of my notifications read", parameters=_id_param())},
        "/notifications/read-all": {"post": _op("Mark all my notifications read")},
        "/calendar/{year}": {"get": _op("A year of the working-day calendar: holidays, make-up working days, "
                                        "published or provisional (staff)", parameters=[
                                            {"name": "year", "in": "path", "required": True,
                                             "schema": {"type": "integer", "minimum": 0}}])},
        "/calendar/days/{date}": {"put": _op("Set one day: holiday, make-up working day, local extra holiday, or "
                                             "null for the weekday rule (admin)", body="CalendarDayBody",
                                             parameters=_path_param("date"))},
        "/calendar/import": {"post": _op("Import a year's holiday arrangement and mark it published (admin)",
                                         body="CalendarImport")},
        "/supervision-orders": {"get": _op("Supervision orders (督办单), newest first: supervisors all, a "
                                           "department its own (paginated)", parameters=_query(OrderQuery)),
                                "post": _op("Issue a supervision order to a department handling a case "
                                            "(supervisor)", "201", body="OrderCreate")},
        "/supervision-orders/{id}": {"get": _op("A supervision order", parameters=_id_param())},
        "/supervision-orders/{id}/reply": {"post": _op("Reply to a supervision order (the department's head or "
                                                       "approver)", body="OrderReply", parameters=_id_param())},
        "/supervision-orders/{id}/close": {"post": _op("Close a supervision order (supervisor)", parameters=_id_param())},
        "/dashboard": {"get": _op("The supervision dashboard: lights per department and item, overdue cases "
                                  "(paginated), on-time rate, average handling days (supervisor)",
                                  parameters=_query(DashboardQuery))},
        "/openapi.json": {"get": _op("This document", auth=False)},
    }


def _area_modules() -> list[ModuleType]:
    """API modules that describe their own routes: `OPENAPI_PATHS` (path -> {method: operation}, built
    with `op`) and `OPENAPI_BODIES` (marshmallow schemas named by `body=`)."""
    package = importlib.import_module(__package__ or "app.api")
    modules = [importlib.import_module(f"{package.__name__}.{m.name}") for m in pkgutil.iter_modules(package.__path__)]
    return [m for m in modules if hasattr(m, "OPENAPI_PATHS") or hasattr(m, "OPENAPI_BODIES")]


def _all_paths() -> dict[str, Any]:
    paths = _paths()
    for module in _area_modules():
        for path, operations in getattr(module, "OPENAPI_PATHS", {}).items():
            paths.setdefault(path, {}).update(operations)
    return paths


def _all_bodies() -> list[type[Schema]]:
    return [*BODIES, *(b for m in _area_modules() for b in getattr(m, "OPENAPI_BODIES", ()))]


# For area modules: `op(summary, ok, body=..., parameters=...)`, `path_param(name)`, `id_param()`, `query(Schema)`.
op, path_param, id_param, query = _op, _path_param, _id_param, _query


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "banjian API", "version": "1.0", "description": "办件 case management: processes, items, cases, tasks."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _all_paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                **{schema.__name__: schema_of(schema) for schema in _all_bodies()},
                "Errors": {"type": "object", "properties": {"errors": {"type": "array", "items": {
                    "type": "object", "properties": {"field": {"type": "string"}, "element_id": {"type": "string"},
                                                     "message": {"type": "string"}}}}}},
            },
        },
    }


@bp.get("/openapi.json")
def openapi() -> Any:
    return document()
