"""The departments' performance score (绩效, §5.3.3): a weighted mean of four components, each 0–100, over a
date range.

- on-time rate: cases finished in the range within every legal limit (the notice, decision and issuance
  clocks) ÷ cases finished in the range, × 100 — the workload statistics' figure (the daily rollups);
- good-rating rate: 好评率 of the ratings in the range (app/services/statistics/indicators.py), × 100;
- rectification rate: 差评整改率 of the bad ratings in the range, × 100;
- supervision: 100 × max(0, 1 − orders ÷ cap), where orders = supervision orders (督办单) issued to the
  department in the range per 100 cases it received in the range, and cap = the orders per 100 cases at
  which the component reaches 0.

score = Σ wᵢ × componentᵢ ÷ Σ wᵢ, over the components that have a figure: a component whose denominator
is 0 (no bad rating to rectify, no case finished) is left out and the other weights count in full, so a
department is neither punished nor rewarded for what did not happen. No component: no score (—).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Forbidden, InvalidForm
from app.models import Department, PerformanceSettings, StatDaily, SupervisionOrder
from app.services import audit
from app.services.context import ServiceContext
from app.services.identity.principal import Principal

from . import indicators
from .filters import Filters, authorize, resolve

COMPONENTS = ("on_time", "good_rating", "rectification", "supervision")
MAX_WEIGHT, MAX_CAP = 1000, 100

FORMULA = {
    "zh": "绩效得分 = Σ 权重ᵢ × 分项得分ᵢ ÷ Σ 权重ᵢ（0–100）。分项：按时办结率 × 100；好评率 × 100；差评整改率 × 100；"
          "督办 = 100 × max(0, 1 − 每百件督办单数 ÷ 上限)，每百件督办单数 = 期间督办单数 ÷ 期间收件数 × 100。"
          "分母为 0 的分项不参与计算，其余权重按比例计入；没有任何分项时不计分（—）。",
    "en": "score = Σ weightᵢ × componentᵢ ÷ Σ weightᵢ (0–100). Components: on-time rate × 100; good-rating rate "
          "× 100; rectification rate × 100; supervision = 100 × max(0, 1 − orders per 100 cases ÷ cap), orders "
          "per 100 cases = supervision orders issued in the range ÷ cases received in the range × 100. A "
          "component with a zero denominator is left out and the other weights count in full; no component: "
          "no score (—).",
}


@dataclass(frozen=True)
class Weights:
    on_time: int
    good_rating: int
    rectification: int
    supervision: int
    order_cap: int  # orders per 100 cases at which the supervision component reaches 0

    def as_dict(self) -> dict[str, int]:
        return {"on_time": self.on_time, "good_rating": self.good_rating, "rectification": self.rectification,
                "supervision": self.supervision, "order_cap": self.order_cap}


DEFAULT_WEIGHTS = Weights(40, 30, 20, 10, 5)


def current(s: Session) -> Weights:
    row = s.get(PerformanceSettings, 1)
    if row is None:
        return DEFAULT_WEIGHTS
    return Weights(row.on_time, row.good_rating, row.rectification, row.supervision, row.order_cap)


def get_weights(ctx: ServiceContext, principal: Principal) -> Weights:
    """:raises Forbidden: someone who does not see the statistics."""
    if not (principal.sees_everything or principal.has("head")):
        raise Forbidden("无权查看绩效 / only supervisors, administrators and department heads see performance")
    with ctx.uow() as uow:
        return current(uow.session)


def update_weights(ctx: ServiceContext, principal: Principal, raw: dict[str, Any]) -> Weights:
    """Replace the weights; audited as performance.weights.

    :raises Forbidden: not an administrator. :raises InvalidForm: a weight that is not a whole number from
    0 to 1000, all weights 0, a cap not from 1 to 100."""
    if not principal.is_admin:
        raise Forbidden("仅管理员可修改绩效权重 / administrators only")
    weights = validate(raw)
    with ctx.uow(write=True) as uow:
        s, now = uow.session, ctx.clock.now()
        before = current(s)
        row = s.get(PerformanceSettings, 1) or PerformanceSettings(id=1)
        for key, value in weights.as_dict().items():
            setattr(row, key, value)
        row.updated_at, row.updated_by = now, principal.id
        s.add(row)
        changed_before, changed_after = audit.changes(before.as_dict(), weights.as_dict())
        if changed_after:
            audit.record(s, principal, now, "performance.weights", "performance", "weights",
                         "绩效权重 / performance weights", changed_before, changed_after)
        uow.commit()
    return weights


def validate(raw: dict[str, Any]) -> Weights:
    """Weights from a form or an API body. :raises InvalidForm: with a message per field."""
    errors: dict[str, list[str]] = {}
    values = {k: _whole(raw.get(k), 0, MAX_WEIGHT, k, errors) for k in COMPONENTS}
    cap = _whole(raw.get("order_cap"), 1, MAX_CAP, "order_cap", errors)
    if not errors and not any(values.values()):
        errors["_weights"] = ["权重不能全为 0 / at least one weight must be above 0"]
    if errors:
        raise InvalidForm(errors, "绩效权重无效 / invalid performance weights")
    return Weights(**values, order_cap=cap)  # type: ignore[arg-type]


def _whole(value: Any, low: int, high: int, name: str, errors: dict[str, list[str]]) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not low <= number <= high:
        errors[name] = [f"请输入 {low}–{high} 之间的整数 / a whole number from {low} to {high}"]
        return 0
    return number


def scores(ctx: ServiceContext, principal: Principal, filters: Filters) -> dict[str, Any]:
    """Each department's components and score over the range (a department head: their own only).

    :raises Forbidden, InvalidInput: as the indicators."""
    filters = authorize(principal, Filters(since=filters.since, until=filters.until, by="department",
                                           department=filters.department))
    with ctx.uow() as uow:
        s = uow.session
        found = resolve(s, filters)
        weights = current(s)
        query = select(Department.id, Department.code, Department.name).order_by(Department.code)
        if found.department_id is not None:
            query = query.where(Department.id == found.department_id)
        departments = list(s.execute(query))
        cases = _cases(s, filters.since, filters.until)
        orders = _orders(s, filters.since, filters.until)
    rated = {r["key"]: r for r in indicators.ratings(ctx, principal, filters)["rows"]}
    rows = [_row(d_id, f"{name} ({code})", code, cases.get(d_id, (0, 0, 0)), orders.get(code, 0),
                 rated.get(d_id), weights) for d_id, code, name in departments]
    return {"filters": indicators.echo(filters), "weights": weights.as_dict(), "components": list(COMPONENTS),
            "rows": rows, "formula": FORMULA}


def _row(dept_id: int, label: str, code: str, cases: tuple[int, int, int], orders: int,
         rated: dict[str, Any] | None, w: Weights) -> dict[str, Any]:
    received, on_time, late = cases
    good_rate = rated["good_rate"] if rated else None
    rect_rate = rated["rectification_rate"] if rated else None
    per_100 = round(orders / received * 100, 2) if received else None
    components = {
        "on_time": _pct(on_time / (on_time + late)) if on_time + late else None,
        "good_rating": _pct(good_rate) if good_rate is not None else None,
        "rectification": _pct(rect_rate) if rect_rate is not None else None,
        "supervision": round(100 * max(0.0, 1 - per_100 / w.order_cap), 2) if per_100 is not None else None,
    }
    return {"key": dept_id, "department": code, "label": label, "received": received, "on_time_cases": on_time,
            "late_cases": late, "orders": orders, "orders_per_100": per_100, **components,
            "score": score(components, w)}


def score(components: dict[str, float | None], w: Weights) -> float | None:
    """The weighted mean of the components that have a figure; None when none has (or their weights are 0)."""
    weights = {k: getattr(w, k) for k in COMPONENTS if components[k] is not None}
    total = sum(weights.values())
    if not total:
        return None
    return round(sum(weights[k] * components[k] for k in weights) / total, 2)  # type: ignore[operator]


def _pct(fraction: float) -> float:
    return round(fraction * 100, 2)


def _cases(s: Session, since: date, until: date) -> dict[int, tuple[int, int, int]]:
    """Per department: cases received, finished on time, finished late in the range (the daily rollups)."""
    query = (select(StatDaily.department_id, func.sum(StatDaily.received), func.sum(StatDaily.on_time),
                    func.sum(StatDaily.late))
             .where(StatDaily.day >= since, StatDaily.day <= until).group_by(StatDaily.department_id))
    return {d: (int(r or 0), int(o or 0), int(late or 0)) for d, r, o, late in s.execute(query)}


def _orders(s: Session, since: date, until: date) -> dict[str, int]:
    """Per department code: supervision orders issued in the range (China days)."""
    start, end = indicators.day_start(since), indicators.day_start(until + timedelta(days=1))
    query = (select(SupervisionOrder.department, func.count())
             .where(SupervisionOrder.issued_at >= start, SupervisionOrder.issued_at < end)
             .group_by(SupervisionOrder.department))
    return {code: int(n) for code, n in s.execute(query)}
