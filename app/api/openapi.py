"""GET /openapi.json: the API described from the same marshmallow schemas that parse requests."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from . import bp
from .calendar import CalendarDayBody, CalendarEntry, CalendarImport
from .notifications import NotificationQuery
from .schemas import CaseCreate, ItemBody, TaskComplete, TaskQuery, TokenRequest, Withdrawal
from .supervision import DashboardQuery, OrderCreate, OrderQuery, OrderReply

ERRORS = {"description": "错误 / error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}}


def _field(field: fields.Field) -> dict[str, Any]:
    if isinstance(field, fields.Nested):
        nested = field.nested if isinstance(field.nested, type) else type(field.nested)
        return {"$ref": f"#/components/schemas/{nested.__name__}"}
    if isinstance(field, fields.List):
        return {"type": "array", "items": _field(field.inner)}
    kind = {fields.Integer: "integer", fields.Boolean: "boolean", fields.Dict: "object"}.get(type(field), "string")
    out: dict[str, Any] = {"type": kind}
    for rule in field.validators:
        if isinstance(rule, validate.OneOf):
            out["enum"] = list(rule.choices)
        elif isinstance(rule, validate.Length):
            out.update({k: v for k, v in (("minLength", rule.min), ("maxLength", rule.max)) if v is not None})
        elif isinstance(rule, validate.Range):
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
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}]


def document() -> dict[str, Any]:
    task_query = [{"name": n, "in": "query", "schema": _field(f)} for n, f in TaskQuery._declared_fields.items()]
    notification_query = [{"name": n, "in": "query", "schema": _field(f)}
                          for n, f in NotificationQuery._declared_fields.items()]
    order_query = [{"name": n, "in": "query", "schema": _field(f)} for n, f in OrderQuery._declared_fields.items()]
    dashboard_query = [{"name": f.data_key or n, "in": "query", "schema": _field(f)}
                       for n, f in DashboardQuery._declared_fields.items()]
    deploy_body = {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
        "application/xml": {"schema": {"type": "string"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "banjian API", "version": "1.0", "description": "办件 case management: processes, items, cases, tasks."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/auth/token": {"post": _op("Sign in: user name and password give a bearer token", body="TokenRequest", auth=False)},
            "/process-definitions": {"post": _op("Deploy a BPMN file (same content: 200 with the existing version)", "201",
                                                 requestBody=deploy_body)},
            "/process-definitions/{key}": {"get": _op("Versions of a process with their case counts", parameters=_path_param("key"))},
            "/items": {"get": _op("The public catalogue of items", auth=False),
                       "post": _op("Create an item (admin)", "201", body="ItemBody")},
            "/items/{code}": {"get": _op("An item's public guide", auth=False, parameters=_path_param("code")),
                              "put": _op("Update an item (admin)", body="ItemBody", parameters=_path_param("code"))},
            "/cases": {"post": _op("Apply: start a case for an item", "201", body="CaseCreate")},
            "/cases/{case_no}": {"get": _op("A case: status, stage, process version, open tasks, history, incidents",
                                            parameters=_path_param("case_no"))},
            "/cases/{case_no}/withdraw": {"post": _op("Withdraw an application not yet accepted (the applicant)",
                                                      body="Withdrawal", parameters=_path_param("case_no"))},
            "/tasks": {"get": _op("Open tasks, earliest due first (paginated)", parameters=task_query)},
            "/tasks/{id}/claim": {"post": _op("Claim a task", parameters=_path_param("id"))},
            "/tasks/{id}/unclaim": {"post": _op("Give a task back to its groups", parameters=_path_param("id"))},
            "/tasks/{id}/complete": {"post": _op("Complete a task with form data", body="TaskComplete",
                                                 parameters=_path_param("id"))},
            "/notifications": {"get": _op("My notifications, newest first (paginated; unread=1: unread only)",
                                          parameters=notification_query)},
            "/notifications/{id}/read": {"post": _op("Mark one of my notifications read", parameters=_path_param("id"))},
            "/notifications/read-all": {"post": _op("Mark all my notifications read")},
            "/calendar/{year}": {"get": _op("A year of the working-day calendar: holidays, make-up working days, "
                                            "published or provisional (staff)", parameters=_path_param("year"))},
            "/calendar/days/{date}": {"put": _op("Set one day: holiday, make-up working day, local extra holiday, or "
                                                 "null for the weekday rule (admin)", body="CalendarDayBody",
                                                 parameters=_path_param("date"))},
            "/calendar/import": {"post": _op("Import a year's holiday arrangement and mark it published (admin)",
                                             body="CalendarImport")},
            "/supervision-orders": {"get": _op("Supervision orders (督办单), newest first: supervisors all, a "
                                               "department its own", parameters=order_query),
                                    "post": _op("Issue a supervision order to a department handling a case "
                                                "(supervisor)", "201", body="OrderCreate")},
            "/supervision-orders/{id}": {"get": _op("A supervision order", parameters=_path_param("id"))},
            "/supervision-orders/{id}/reply": {"post": _op("Reply to a supervision order (the department's head or "
                                                           "approver)", body="OrderReply", parameters=_path_param("id"))},
            "/supervision-orders/{id}/close": {"post": _op("Close a supervision order (supervisor)",
                                                           parameters=_path_param("id"))},
            "/dashboard": {"get": _op("The supervision dashboard: lights per department and item, overdue cases, "
                                      "on-time rate, average handling days (supervisor)", parameters=dashboard_query)},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "TokenRequest": schema_of(TokenRequest), "ItemBody": schema_of(ItemBody),
                "Material": schema_of(ItemBody._declared_fields["materials"].inner.nested),  # type: ignore[attr-defined]
                "CaseCreate": schema_of(CaseCreate), "TaskComplete": schema_of(TaskComplete),
                "Withdrawal": schema_of(Withdrawal),
                "CalendarDayBody": schema_of(CalendarDayBody), "CalendarImport": schema_of(CalendarImport),
                "CalendarEntry": schema_of(CalendarEntry),
                "OrderCreate": schema_of(OrderCreate), "OrderReply": schema_of(OrderReply),
                "Errors": {"type": "object", "properties": {"errors": {"type": "array", "items": {
                    "type": "object", "properties": {"field": {"type": "string"}, "element_id": {"type": "string"},
                                                     "message": {"type": "string"}}}}}},
            },
        },
    }


@bp.get("/openapi.json")
def openapi() -> Any:
    return document()
