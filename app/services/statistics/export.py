"""The figures as tables: one builder per view, used alike by the page's accessible tables and by the CSV
and XLSX downloads, so a download always holds the numbers the page shows."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook

WORKLOAD_COLUMNS = (
    ("received", "收件 / received"), ("accepted", "受理 / accepted"), ("finished", "办结 / finished"),
    ("refused", "不予受理或不予许可 / refused"), ("withdrawn", "撤回 / withdrawn"),
    ("corrections", "补正告知 / correction notices"), ("on_time", "按时办结 / on time"), ("late", "超期 / late"),
    ("on_time_rate", "按时办结率 / on-time rate"), ("corrections_per_case", "件均补正 / corrections per case"),
    ("open_at_end", "期末在办 / in progress at the end"),
)
TIMES_COLUMNS = (("cases", "件数 / cases"), ("avg_workdays", "平均工作日 / average working days"),
                 ("p90_workdays", "90% 工作日 / 90th percentile working days"))
STAGE_NAMES = {"acceptance": "收件至受理 / received → accepted", "decision": "受理至决定 / accepted → decided",
               "total": "收件至办结 / received → finished"}


@dataclass(frozen=True)
class Sheet:
    title: str
    headers: list[str]
    rows: list[list[Any]]


def workload_sheet(result: dict[str, Any]) -> Sheet:
    headers = ["期间 / period", "分组 / group", *(label for _, label in WORKLOAD_COLUMNS)]
    rows = [[r["period"], r["label"], *(r[k] for k, _ in WORKLOAD_COLUMNS)] for r in result["rows"]]
    rows.append(["合计 / total", "", *(result["totals"][k] for k, _ in WORKLOAD_COLUMNS)])
    return Sheet("workload", headers, rows)


def times_sheet(result: dict[str, Any]) -> Sheet:
    headers = ["期间 / period", "分组 / group", "阶段 / stage", *(label for _, label in TIMES_COLUMNS)]
    rows = [[r["period"], r["label"], STAGE_NAMES.get(r["stage"], r["stage"]), *(r[k] for k, _ in TIMES_COLUMNS)]
            for r in result["rows"]]
    return Sheet("times", headers, rows)


def backlog_sheet(result: dict[str, Any]) -> Sheet:
    headers = ["分组 / group", "在办件数 / open cases",
               *(f"{b} 个工作日 / working days" for b in result["buckets"])]
    rows = [[r["label"], r["cases"], *(r[b] for b in result["buckets"])] for r in result["rows"]]
    rows.append(["合计 / total", result["total"], *(sum(r[b] for r in result["rows"]) for b in result["buckets"])])
    return Sheet("backlog", headers, rows)


SHEETS: dict[str, Callable[[dict[str, Any]], Sheet]] = {
    "workload": workload_sheet, "times": times_sheet, "backlog": backlog_sheet}


def to_csv(sheet: Sheet) -> bytes:
    """UTF-8 with a byte-order mark, which is how spreadsheet programs in China recognise UTF-8 CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(sheet.headers)
    writer.writerows(["" if v is None else v for v in row] for row in sheet.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(sheet: Sheet, filters: dict[str, Any]) -> bytes:
    """One sheet of figures with numbers as numbers, then a sheet naming the filters they answer."""
    book = Workbook()
    figures = book.active
    figures.title = sheet.title
    figures.append(sheet.headers)
    for row in sheet.rows:
        figures.append(row)
    figures.freeze_panes = "A2"
    about = book.create_sheet("filters")
    for key, value in filters.items():
        about.append([key, "" if value is None else str(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
