"""Users, departments, groups, who does what, and the audit trail (administrators only); and the password
change a user needs before the API gives them a token again."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import request
from marshmallow import fields, validate

from app.models import AUDIT_OBJECTS, ROLES
from app.services import audit
from app.services.admin import assignments, departments_admin, groups_admin, users_admin
from app.services.identity.auth import change_password

from . import bp
from .body import json_object
from .openapi import id_param, op, query
from .schemas import Paging, Strict, bounded_date
from .security import ctx, login_required, principal

_OPTIONAL = {"load_default": None, "allow_none": True}


class UserQuery(Paging):
    q = fields.String(load_default=None, validate=validate.Length(max=64))
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    department = fields.String(load_default=None, validate=validate.Length(max=64))
    active = fields.Boolean(load_default=None)


class UserPatch(Strict):
    full_name = fields.String(validate=validate.Length(max=200))
    role = fields.String(validate=validate.OneOf(ROLES))
    department = fields.String(allow_none=True, validate=validate.Length(max=64))
    groups = fields.List(fields.String(validate=validate.Length(1, 128)), validate=validate.Length(max=100))
    staff_no = fields.String(allow_none=True, validate=validate.Length(max=64))
    phone = fields.String(allow_none=True, validate=validate.Length(max=64))
    email = fields.String(allow_none=True, validate=validate.Length(max=300))


class UserCreate(UserPatch):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    full_name = fields.String(required=True, validate=validate.Length(max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    # omitted: one is generated and returned once
    password = fields.String(allow_none=True, validate=validate.Length(max=256))


class DepartmentQuery(Paging):
    q = fields.String(load_default=None, validate=validate.Length(max=64))


class DepartmentCreate(Strict):
    code = fields.String(required=True, validate=validate.Length(1, 64))
    name = fields.String(required=True, validate=validate.Length(max=300))
    standard_groups = fields.Boolean(load_default=False)  # also <code>.clerk, .approver, .head


class DepartmentPatch(Strict):
    name = fields.String(validate=validate.Length(max=300))
    code = fields.String(validate=validate.Length(max=64))  # refused unless unchanged: codes are fixed


class GroupQuery(Paging):
    q = fields.String(load_default=None, validate=validate.Length(max=128))
    department = fields.String(load_default=None, validate=validate.Length(max=64))


class GroupCreate(Strict):
    name = fields.String(required=True, validate=validate.Length(1, 128))
    department = fields.String(**_OPTIONAL, validate=validate.Length(max=64))
    role = fields.String(**_OPTIONAL, validate=validate.OneOf(ROLES))


class GroupPatch(Strict):
    name = fields.String(validate=validate.Length(max=128))  # refused unless unchanged: names are fixed
    department = fields.String(allow_none=True, validate=validate.Length(max=64))
    role = fields.String(allow_none=True, validate=validate.OneOf(ROLES))


class GroupMembers(Strict):
    members = fields.List(fields.String(validate=validate.Length(1, 64)), required=True,
                          validate=validate.Length(max=groups_admin.MAX_MEMBERS))


class AuditQuery(Paging):
    object_type = fields.String(load_default=None, validate=validate.OneOf(AUDIT_OBJECTS))
    object_id = fields.String(load_default=None, validate=validate.Length(max=128))
    actor = fields.String(load_default=None, validate=validate.Length(max=64))
    action = fields.String(load_default=None, validate=validate.Length(max=64))
    since = bounded_date(load_default=None)
    until = bounded_date(load_default=None)


class PasswordChange(Strict):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 256))
    new_password = fields.String(required=True, validate=validate.Length(1, 256))


OPENAPI_BODIES = (UserCreate, UserPatch, DepartmentCreate, DepartmentPatch, GroupCreate, GroupPatch, GroupMembers,
                  PasswordChange)
_ID = id_param()
OPENAPI_PATHS = {
    "/auth/password": {"post": op("Change my password with the current one (needed before a token is issued when "
                                  "an administrator set the password); other sessions and tokens end",
                                  body="PasswordChange", auth=False)},
    "/users": {"get": op("Users by user name, filtered (admin; paginated)", parameters=query(UserQuery)),
               "post": op("Create a user; without `password` one is generated and returned once; the user must "
                          "change it at the first sign-in (admin)", "201", body="UserCreate")},
    "/users/{id}": {"get": op("A user (admin)", parameters=_ID),
                    "patch": op("Change a user's name, role, department, groups, staff number, phone or e-mail "
                                "(admin)", body="UserPatch", parameters=_ID)},
    "/users/{id}/disable": {"post": op("Disable a user: sign-in refused, sessions and tokens end at once (admin; "
                                       "not oneself nor the last active administrator)", parameters=_ID)},
    "/users/{id}/enable": {"post": op("Enable a disabled user again (admin)", parameters=_ID)},
    "/users/{id}/reset-password": {"post": op("Reset a user's password: a temporary one, returned once; sessions "
                                              "end; the user must change it at the next sign-in (admin)",
                                              parameters=_ID)},
    "/departments": {"get": op("Departments by code with user counts and groups (admin; paginated)",
                               parameters=query(DepartmentQuery)),
                     "post": op("Create a department, optionally with its standard groups (admin)", "201",
                                body="DepartmentCreate")},
    "/departments/{id}": {"get": op("A department (admin)", parameters=_ID),
                          "patch": op("Rename a department; its code cannot change (admin)", body="DepartmentPatch",
                                      parameters=_ID)},
    "/groups": {"get": op("Groups by name with their members (admin; paginated)", parameters=query(GroupQuery)),
                "post": op("Create a group (admin)", "201", body="GroupCreate")},
    "/groups/{id}": {"get": op("A group with its members (admin)", parameters=_ID),
                     "patch": op("Change a group's department or role; its name cannot change (admin)",
                                 body="GroupPatch", parameters=_ID)},
    "/groups/{id}/members": {"put": op("Make the group's members exactly these user names (admin)",
                                       body="GroupMembers", parameters=_ID)},
    "/groups/{id}/assignments": {"get": op("Who does what: the steps of the latest version of each process that "
                                           "offer work to the group, and through which items (admin)",
                                           parameters=_ID)},
    "/audit": {"get": op("The audit trail of administrative changes, newest first (admin; paginated)",
                         parameters=query(AuditQuery))},
}


@bp.post("/auth/password")
def password() -> Any:
    body = PasswordChange().load(json_object())
    change_password(ctx(), body["username"], body["password"], body["new_password"],
                    client=request.remote_addr or "unknown")
    return {"changed": True}


@bp.get("/users")
@login_required
def list_users() -> Any:
    args = UserQuery().load(request.args.to_dict())
    flt = users_admin.UserFilter(args["q"], args["role"], args["department"], args["active"])
    page = users_admin.list_users(ctx(), principal(), flt, args["page"], args["per_page"])
    return {**page.as_dict(), "items": [asdict(u) for u in page.items]}


@bp.post("/users")
@login_required
def create_user() -> Any:
    created = users_admin.create_user(ctx(), principal(), UserCreate().load(json_object()))
    return _with_password(created), 201


@bp.get("/users/<id:user_id>")
@login_required
def get_user(user_id: int) -> Any:
    return asdict(users_admin.get_user(ctx(), principal(), user_id))


@bp.patch("/users/<id:user_id>")
@login_required
def update_user(user_id: int) -> Any:
    return asdict(users_admin.update_user(ctx(), principal(), user_id, UserPatch().load(json_object())))


@bp.post("/users/<id:user_id>/disable")
@login_required
def disable_user(user_id: int) -> Any:
    return asdict(users_admin.set_active(ctx(), principal(), user_id, False))


@bp.post("/users/<id:user_id>/enable")
@login_required
def enable_user(user_id: int) -> Any:
    return asdict(users_admin.set_active(ctx(), principal(), user_id, True))


@bp.post("/users/<id:user_id>/reset-password")
@login_required
def reset_password(user_id: int) -> Any:
    return _with_password(users_admin.reset_password(ctx(), principal(), user_id))


@bp.get("/departments")
@login_required
def list_departments() -> Any:
    args = DepartmentQuery().load(request.args.to_dict())
    page = departments_admin.list_departments(ctx(), principal(), args["q"], args["page"], args["per_page"])
    return {**page.as_dict(), "items": [asdict(d) for d in page.items]}


@bp.post("/departments")
@login_required
def create_department() -> Any:
    body = DepartmentCreate().load(json_object())
    row = departments_admin.create_department(ctx(), principal(), body["code"], body["name"], body["standard_groups"])
    return asdict(row), 201


@bp.get("/departments/<id:department_id>")
@login_required
def get_department(department_id: int) -> Any:
    return asdict(departments_admin.get_department(ctx(), principal(), department_id))


@bp.patch("/departments/<id:department_id>")
@login_required
def update_department(department_id: int) -> Any:
    body = DepartmentPatch().load(json_object())
    return asdict(departments_admin.update_department(ctx(), principal(), department_id, body))


@bp.get("/groups")
@login_required
def list_groups() -> Any:
    args = GroupQuery().load(request.args.to_dict())
    page = groups_admin.list_groups(ctx(), principal(), args["q"], args["department"], args["page"], args["per_page"])
    return {**page.as_dict(), "items": [asdict(g) for g in page.items]}


@bp.post("/groups")
@login_required
def create_group() -> Any:
    body = GroupCreate().load(json_object())
    return asdict(groups_admin.create_group(ctx(), principal(), body["name"], body["department"], body["role"])), 201


@bp.get("/groups/<id:group_id>")
@login_required
def get_group(group_id: int) -> Any:
    return asdict(groups_admin.get_group(ctx(), principal(), group_id))


@bp.patch("/groups/<id:group_id>")
@login_required
def update_group(group_id: int) -> Any:
    body = GroupPatch().load(json_object())
    return asdict(groups_admin.update_group(ctx(), principal(), group_id, body))


@bp.put("/groups/<id:group_id>/members")
@login_required
def set_members(group_id: int) -> Any:
    body = GroupMembers().load(json_object())
    return asdict(groups_admin.set_members(ctx(), principal(), group_id, body["members"]))


@bp.get("/groups/<id:group_id>/assignments")
@login_required
def group_assignments(group_id: int) -> Any:
    found = assignments.group_assignments(ctx(), principal(), group_id)
    return {"group": asdict(found.group), "unreadable": list(found.unreadable),
            "steps": [{**asdict(a), "items": [{"code": c, "name": n} for c, n in a.items]} for a in found.steps]}


@bp.get("/audit")
@login_required
def audit_trail() -> Any:
    args = AuditQuery().load(request.args.to_dict())
    flt = audit.AuditFilter(args["object_type"], args["object_id"], args["actor"], args["action"], args["since"],
                            args["until"])
    page = audit.search(ctx(), principal(), flt, args["page"], args["per_page"])
    return {**page.as_dict(), "items": [asdict(e) for e in page.items]}


def _with_password(result: users_admin.WithPassword) -> dict[str, Any]:
    """The user, and the password to hand over when it was generated (shown this once, never stored)."""
    return {"user": asdict(result.user), "password": result.password}
