"""The centre's rating rules (GB/T 39734 §7): bad-rating reason categories, the rating window in working
days, the reminder delay, and what an unrated case counts as when its window closes (未评 or a level).
Administrators change them (audited); a change applies to services finished after it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.errors import Forbidden, InvalidForm
from app.models import RatingSettings
from app.services import audit
from app.services.context import ServiceContext
from app.services.identity.principal import Principal

from .levels import DEFAULT_REASONS, LEVELS

WINDOW_DAYS, REMINDER_HOURS = 5, 24  # the common local defaults (DESIGN.md §2)
MAX_REASONS = 30
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Rules:
    reasons: tuple[dict[str, str], ...]
    window_days: int
    reminder_hours: int
    default_level: int | None  # None: 未评

    def reason_codes(self) -> set[str]:
        return {r["code"] for r in self.reasons}

    def as_dict(self) -> dict[str, Any]:
        return {"reasons": [dict(r) for r in self.reasons], "window_days": self.window_days,
                "reminder_hours": self.reminder_hours, "default_level": self.default_level}


DEFAULT_RULES = Rules(DEFAULT_REASONS, WINDOW_DAYS, REMINDER_HOURS, None)


def current(s: Session) -> Rules:
    """The rules in force: the administrators' row, else the defaults."""
    row = s.get(RatingSettings, 1)
    if row is None:
        return DEFAULT_RULES
    return Rules(tuple(row.reasons), row.window_days, row.reminder_hours, row.default_level)


def get(ctx: ServiceContext) -> Rules:
    with ctx.uow() as uow:
        return current(uow.session)


def update(ctx: ServiceContext, principal: Principal, raw: dict[str, Any]) -> Rules:
    """Replace the rules (all fields); audited as rating.rules.

    :raises Forbidden: not an administrator. :raises InvalidForm: a field out of range, a reason without a
    code or name, a code twice.
    """
    if not principal.is_admin:
        raise Forbidden("仅管理员可修改评价规则 / administrators only")
    rules = validate(raw)
    with ctx.uow(write=True) as uow:
        s, now = uow.session, ctx.clock.now()
        before = current(s)
        row = s.get(RatingSettings, 1) or RatingSettings(id=1)
        row.reasons, row.window_days = [dict(r) for r in rules.reasons], rules.window_days
        row.reminder_hours, row.default_level = rules.reminder_hours, rules.default_level
        row.updated_at, row.updated_by = now, principal.id
        s.add(row)
        changed_before, changed_after = audit.changes(before.as_dict(), rules.as_dict())
        if changed_after:
            audit.record(s, principal, now, "rating.rules", "rating", "rules", "评价规则 / rating rules",
                         changed_before, changed_after)
        uow.commit()
    return rules


def validate(raw: dict[str, Any]) -> Rules:
    """Rules from a form or an API body. :raises InvalidForm: with a message per field."""
    errors: dict[str, list[str]] = {}
    window_days = _int(raw.get("window_days"), 1, 30, "window_days", errors)
    reminder_hours = _int(raw.get("reminder_hours"), 1, 720, "reminder_hours", errors)
    level = raw.get("default_level")
    default_level = None if level in (None, "", "unrated") else _int(level, 1, 5, "default_level", errors)
    reasons = _reasons(raw.get("reasons"), errors)
    if errors:
        raise InvalidForm(errors)
    return Rules(tuple(reasons), window_days or WINDOW_DAYS, reminder_hours or REMINDER_HOURS, default_level)


def _int(value: Any, low: int, high: int, name: str, errors: dict[str, list[str]]) -> int | None:
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        errors[name] = [f"请输入 {low}–{high} 之间的整数 / a whole number from {low} to {high}"]
        return None
    return number


def _reasons(value: Any, errors: dict[str, list[str]]) -> list[dict[str, str]]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_REASONS:
        errors["reasons"] = [f"请列出 1–{MAX_REASONS} 个差评原因 / list 1 to {MAX_REASONS} reasons"]
        return []
    out: list[dict[str, str]] = []
    for i, entry in enumerate(value):
        entry = entry if isinstance(entry, dict) else {}
        code, zh, en = (str(entry.get(k) or "").strip() for k in ("code", "zh", "en"))
        if not _CODE.match(code) or any(r["code"] == code for r in out):
            errors[f"reasons.{i}.code"] = ["代码须为小写字母开头的字母、数字、下划线且不重复 / a unique code of "
                                           "lower-case letters, digits and _"]
        if not 1 <= len(zh) <= 40:
            errors[f"reasons.{i}.zh"] = ["请填写中文名称（不超过 40 字）/ a Chinese name of at most 40 characters"]
        if len(en) > 80:
            errors[f"reasons.{i}.en"] = ["英文名称不超过 80 字符 / at most 80 characters"]
        out.append({"code": code, "zh": zh, "en": en or zh})
    return out


def level_choices() -> list[int]:
    return sorted(LEVELS, reverse=True)
