"""好差评 administration (/admin/ratings): the centre's rating rules (reason categories, the rating window in
working days, the reminder delay, what an unrated case counts as) and the service windows with their clerks.
Both are audited by the services."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.errors import Forbidden, InvalidForm
from app.services.ratings import levels, rules, windows

from ..formjs import localized
from ..session import ctx, principal, roles_required
from . import bp

admin_required = roles_required()


@bp.get("/ratings")
@admin_required
def ratings() -> Any:
    current = rules.get(ctx())
    return _page(_rules_form(current), {}, {}, {})


@bp.post("/ratings/rules")
@admin_required
def rating_rules() -> Any:
    form = {k: request.form.get(k, "") for k in ("window_days", "reminder_hours", "default_level", "reasons")}
    try:
        rules.update(ctx(), principal(), {**form, "reasons": _reasons(form["reasons"])})
    except Forbidden:
        return render_template("errors/error.html", code=403, message=_("Administrators only.")), 403
    except InvalidForm as exc:
        return _page(form, exc.field_errors, {}, {}, 422)
    return redirect(url_for("admin.ratings", saved="rules"))


@bp.post("/ratings/windows")
@admin_required
def rating_window() -> Any:
    f = request.form
    form = {k: f.get(k, "") for k in ("code", "name", "department", "clerks")}
    clerks = [c.strip() for c in form["clerks"].replace("，", ",").split(",") if c.strip()]
    try:
        windows.save_window(ctx(), principal(), form["code"], form["name"], form["department"].strip() or None,
                            f.get("active") == "on", clerks)
    except InvalidForm as exc:
        return _page(_rules_form(rules.get(ctx())), {}, form, exc.field_errors, 422)
    return redirect(url_for("admin.ratings", saved="window"))


def _rules_form(current: rules.Rules) -> dict[str, Any]:
    return {"window_days": current.window_days, "reminder_hours": current.reminder_hours,
            "default_level": current.default_level or "",
            "reasons": "\n".join(f"{r['code']} | {r['zh']} | {r.get('en', '')}" for r in current.reasons)}


def _reasons(text: str) -> list[dict[str, str]]:
    """One reason a line: `code | 中文名称 | English name` (the English may be left out)."""
    out = []
    for line in text.splitlines():
        if line.strip():
            parts = [p.strip() for p in line.split("|")] + ["", ""]
            out.append({"code": parts[0], "zh": parts[1], "en": parts[2]})
    return out


def _page(rules_form: dict[str, Any], rules_errors: dict[str, list[str]], window_form: dict[str, Any],
          window_errors: dict[str, list[str]], status: int = 200) -> Any:
    reason_errors = [localized(m) for k, v in rules_errors.items() if k.startswith("reasons") for m in v]
    return render_template(
        "admin/ratings.html", rules_form=rules_form, rules_errors=rules_errors, reason_errors=reason_errors,
        window_form=window_form, window_errors=window_errors, windows=windows.list_windows(ctx(), principal()),
        levels=levels.LEVELS, saved=request.args.get("saved")), status
