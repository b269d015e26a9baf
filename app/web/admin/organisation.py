"""Organisation pages: users (list, new, edit, disable and enable, password reset), departments, groups
with their members, and who does what for a chosen group. Administrators only.

A password the server generates (a new account without one, a reset) is shown once on the answer to the
POST itself, never through a flash message: those travel in the signed, but readable, session cookie.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.errors import Conflict, InvalidInput
from app.models import ROLES
from app.services.admin import assignments, departments_admin, groups_admin, users_admin
from app.services.admin.organisation import STANDARD_ROLES

from ..params import page_arg
from ..session import ctx, principal, roles_required
from . import bp

admin_required = roles_required()  # administrators only (roles_required always admits "admin")
PER_PAGE = 25
USER_FIELDS = ("full_name", "role", "department", "staff_no", "phone", "email")
ACTIVE_CHOICES = {"": None, "1": True, "0": False}
NO_STORE = {"Cache-Control": "no-store"}  # a page with a one-time password stays out of caches


def field_errors(exc: InvalidInput) -> dict[str, list[str]]:
    """The service's details as the page macros want them: field -> messages."""
    out: dict[str, list[str]] = {}
    for detail in exc.details:
        out.setdefault(str(detail.get("field") or "_"), []).append(str(detail.get("message", "")))
    return out


def _choices() -> dict[str, Any]:
    return {"roles": ROLES, "departments": departments_admin.all_departments(ctx()),
            "group_names": groups_admin.all_groups(ctx())}


# --- users -----------------------------------------------------------------------------------------------

@bp.get("/users")
@admin_required
def users() -> Any:
    args = request.args
    flt = users_admin.UserFilter(args.get("q", "").strip()[:64] or None, _one_of(args.get("role"), ROLES),
                                 args.get("department", "").strip()[:64] or None,
                                 ACTIVE_CHOICES.get(args.get("active", ""), None))
    page = users_admin.list_users(ctx(), principal(), flt, page_arg(args), PER_PAGE)
    kept = {k: v for k, v in args.items() if k != "page" and v}
    return render_template("admin/users.html", page=page, flt=flt, args=kept, active=args.get("active", ""),
                           **_choices())


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def user_new() -> Any:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        fields = {**_user_form(request.form), "username": request.form.get("username", "").strip()[:64],
                  "password": request.form.get("password", "")[:300] or None}
        try:
            created = users_admin.create_user(ctx(), principal(), fields)
        except InvalidInput as exc:
            errors = field_errors(exc)
        else:
            if created.password:
                return render_template("admin/users_password.html", user=created.user, password=created.password,
                                       created=True), 200, NO_STORE
            flash(_("User %(name)s created. They must change the password at their first sign-in.",
                    name=created.user.username), "success")
            return redirect(url_for(".user_edit", user_id=created.user.id))
    page = render_template("admin/users_form.html", user=None, form=request.form, errors=errors, **_choices())
    return page, 400 if errors else 200


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@admin_required
def user_edit(user_id: int) -> Any:
    errors: dict[str, list[str]] = {}
    user = users_admin.get_user(ctx(), principal(), user_id)
    form: Mapping[str, Any] = request.form
    if request.method == "POST":
        try:
            users_admin.update_user(ctx(), principal(), user_id, _user_form(request.form))
        except InvalidInput as exc:
            errors = field_errors(exc)
        except Conflict as exc:
            errors = {"role": [exc.message]}
        else:
            flash(_("Changes to %(name)s saved.", name=user.username), "success")
            return redirect(url_for(".user_edit", user_id=user_id))
    else:
        form = {**{k: getattr(user, k) or "" for k in USER_FIELDS}, "groups": list(user.groups)}
    page = render_template("admin/users_form.html", user=user, form=form, errors=errors, **_choices())
    return page, 400 if errors else 200


@bp.post("/users/<id:user_id>/active")
@admin_required
def user_active(user_id: int) -> Any:
    active = request.form.get("active") == "1"
    try:
        row = users_admin.set_active(ctx(), principal(), user_id, active)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(_("%(name)s can sign in again.", name=row.username) if active else
              _("%(name)s is disabled: they cannot sign in, and their sessions have ended.", name=row.username),
              "success")
    return redirect(url_for(".user_edit", user_id=user_id))


@bp.post("/users/<id:user_id>/reset-password")
@admin_required
def user_reset(user_id: int) -> Any:
    result = users_admin.reset_password(ctx(), principal(), user_id)
    return render_template("admin/users_password.html", user=result.user, password=result.password,
                           created=False), 200, NO_STORE


def _user_form(form: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {k: str(form.get(k, "")).strip()[:300] for k in USER_FIELDS}
    getlist = getattr(form, "getlist", None)
    fields["groups"] = [g[:128] for g in getlist("groups")][:100] if getlist else []
    fields["department"] = fields["department"] or None
    return fields


def _one_of(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


# --- departments -----------------------------------------------------------------------------------------

@bp.get("/departments")
@admin_required
def departments() -> Any:
    q = request.args.get("q", "").strip()[:64]
    page = departments_admin.list_departments(ctx(), principal(), q or None, page_arg(request.args), PER_PAGE)
    return render_template("admin/departments.html", page=page, q=q, args={"q": q} if q else {})


@bp.route("/departments/new", methods=["GET", "POST"])
@admin_required
def department_new() -> Any:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = request.form
        try:
            row = departments_admin.create_department(ctx(), principal(), form.get("code", "")[:64],
                                                      form.get("name", "")[:300], form.get("standard_groups") == "1")
        except InvalidInput as exc:
            errors = field_errors(exc)
        else:
            flash(_("Department %(code)s created.", code=row.code), "success")
            return redirect(url_for(".departments"))
    page = render_template("admin/departments_form.html", dept=None, form=request.form, errors=errors,
                           standard_roles=STANDARD_ROLES)
    return page, 400 if errors else 200


@bp.route("/departments/<id:department_id>", methods=["GET", "POST"])
@admin_required
def department_edit(department_id: int) -> Any:
    errors: dict[str, list[str]] = {}
    dept = departments_admin.get_department(ctx(), principal(), department_id)
    form: Mapping[str, Any] = request.form if request.method == "POST" else {"name": dept.name}
    if request.method == "POST":
        try:
            departments_admin.update_department(ctx(), principal(), department_id,
                                                {"name": request.form.get("name", "")[:300]})
        except InvalidInput as exc:
            errors = field_errors(exc)
        else:
            flash(_("Department %(code)s saved.", code=dept.code), "success")
            return redirect(url_for(".departments"))
    page = render_template("admin/departments_form.html", dept=dept, form=form, errors=errors,
                           standard_roles=STANDARD_ROLES)
    return page, 400 if errors else 200


# --- groups ----------------------------------------------------------------------------------------------

@bp.get("/groups")
@admin_required
def groups() -> Any:
    q = request.args.get("q", "").strip()[:128]
    department = request.args.get("department", "").strip()[:64]
    page = groups_admin.list_groups(ctx(), principal(), q or None, department or None, page_arg(request.args),
                                    PER_PAGE)
    args = {k: v for k, v in (("q", q), ("department", department)) if v}
    return render_template("admin/groups.html", page=page, q=q, department=department, args=args,
                           departments=departments_admin.all_departments(ctx()))


@bp.route("/groups/new", methods=["GET", "POST"])
@admin_required
def group_new() -> Any:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = request.form
        try:
            row = groups_admin.create_group(ctx(), principal(), form.get("name", "")[:128],
                                            form.get("department", "")[:64] or None, form.get("role", "") or None)
        except InvalidInput as exc:
            errors = field_errors(exc)
        else:
            flash(_("Group %(name)s created.", name=row.name), "success")
            return redirect(url_for(".group_edit", group_id=row.id))
    page = render_template("admin/groups_form.html", group=None, form=request.form, errors=errors, **_choices())
    return page, 400 if errors else 200


@bp.route("/groups/<id:group_id>", methods=["GET", "POST"])
@admin_required
def group_edit(group_id: int) -> Any:
    errors: dict[str, list[str]] = {}
    group = groups_admin.get_group(ctx(), principal(), group_id)
    form: Mapping[str, Any] = request.form
    if request.method == "POST":
        try:
            _save_group(group_id, request.form)
        except InvalidInput as exc:
            errors = field_errors(exc)
        else:
            flash(_("Group %(name)s saved.", name=group.name), "success")
            return redirect(url_for(".group_edit", group_id=group_id))
    else:
        form = {"department": group.department or "", "role": group.role or "", "members": "\n".join(group.members)}
    page = render_template("admin/groups_form.html", group=group, form=form, errors=errors, **_choices())
    return page, 400 if errors else 200


def _save_group(group_id: int, form: Mapping[str, Any]) -> None:
    """Settings and members together: a bad one changes neither. Members: one user name a line (or commas)."""
    names = [n.strip()[:64] for n in str(form.get("members", "")).replace(",", "\n").splitlines() if n.strip()]
    groups_admin.save_group(ctx(), principal(), group_id, {
        "department": str(form.get("department", ""))[:64] or None, "role": str(form.get("role", "")) or None},
        names)


@bp.get("/assignments")
@admin_required
def assignments_page() -> Any:
    """Who does what: pick a group, see the steps offered to it."""
    chosen = request.args.get("group", "")[:128]
    group_id = groups_admin.group_id_by_name(ctx(), chosen) if chosen else None
    found = assignments.group_assignments(ctx(), principal(), group_id) if group_id else None
    return render_template("admin/assignments.html", names=groups_admin.all_groups(ctx()), chosen=chosen,
                           found=found, unknown=bool(chosen) and group_id is None)


@bp.get("/groups/<id:group_id>/assignments")
@admin_required
def group_assignments(group_id: int) -> Any:
    group = groups_admin.get_group(ctx(), principal(), group_id)
    return redirect(url_for(".assignments_page", group=group.name))

