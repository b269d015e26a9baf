"""The indicators, the performance score and the public results as tables: the pages' accessible tables
and the CSV and XLSX downloads are built from these, so a download holds exactly the page's numbers.
Rates are percentages with two decimals; None (a zero denominator) is shown as — and left empty in a
download."""

from __future__ import annotations

from typing import Any

from .export import Sheet

RATE_COLUMNS = (
    ("good_rate", "好评率 (%) / good-rating rate (%)"),
    ("active_good_rate", "主动评价好评率 (%) / active good-rating rate (%)"),
    ("unrated_rate", "未评价率 (%) / unrated rate (%)"),
    ("rectification_rate", "差评整改率 (%) / rectification rate (%)"),
    ("callback_rate", "实名差评回访率 (%) / real-name bad-rating callback rate (%)"),
)
COUNT_COLUMNS = (
    ("services", "评价服务数 / services"), ("with_level", "有等级的评价 / with a level"), ("good", "好评 / good"),
    ("active", "主动评价 / active"), ("active_good", "主动好评 / active good"), ("unrated", "未评价 / unrated"),
    ("follow_ups", "追加评价 / follow-ups"), ("bad", "差评 / bad"), ("valid_bad", "有效差评 / valid bad"),
    ("valid_bad_rectified", "已整改 / rectified"), ("real_name_bad", "实名差评 / real-name bad"),
    ("real_name_bad_called_back", "已回访 / called back"),
)
PUBLIC_COUNTS = (("services", "评价服务数 / services"), ("good", "好评 / good"), ("bad", "差评 / bad"))
PERFORMANCE_COLUMNS = (
    ("received", "收件数 / cases received"), ("on_time", "按时办结率得分 / on-time rate"),
    ("good_rating", "好评率得分 / good-rating rate"), ("rectification", "差评整改率得分 / rectification rate"),
    ("orders", "督办单数 / supervision orders"), ("orders_per_100", "每百件督办单数 / orders per 100 cases"),
    ("supervision", "督办得分 / supervision"), ("score", "绩效得分 / score"),
)


def percent(fraction: float | None) -> float | None:
    return None if fraction is None else round(fraction * 100, 2)


def ratings_sheet(result: dict[str, Any]) -> Sheet:
    headers = ["期间 / period", "分组 / group", *(label for _, label in RATE_COLUMNS),
               *(label for _, label in COUNT_COLUMNS)]
    rows = [_rating_row(r["period"], r["label"], r) for r in result["rows"]]
    rows.append(_rating_row("合计 / total", "", result["totals"]))
    return Sheet("ratings", headers, rows)


def _rating_row(period: str, label: str, r: dict[str, Any]) -> list[Any]:
    return [period, label, *(percent(r[k]) for k, _ in RATE_COLUMNS), *(r[k] for k, _ in COUNT_COLUMNS)]


def performance_sheet(result: dict[str, Any]) -> Sheet:
    headers = ["部门 / department", *(label for _, label in PERFORMANCE_COLUMNS)]
    rows = [[r["label"], *(r[k] for k, _ in PERFORMANCE_COLUMNS)] for r in result["rows"]]
    return Sheet("performance", headers, rows)


def public_sheet(result: dict[str, Any], group: str) -> Sheet:
    headers = [group, *(label for _, label in RATE_COLUMNS), *(label for _, label in PUBLIC_COUNTS)]
    rows = [_public_row(r["label"], r) for r in result["rows"]]
    rows.append(_public_row("合计 / total", result["totals"]))
    return Sheet("results", headers, rows)


def _public_row(label: str, r: dict[str, Any]) -> list[Any]:
    return [label, *(percent(r[k]) for k, _ in RATE_COLUMNS), *(r[k] for k, _ in PUBLIC_COUNTS)]
