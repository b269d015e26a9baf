"""A year's holiday arrangement as a file: reading JSON or CSV and checking it, line by line.

JSON: `{"year": 2027, "days": [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}, ...]}`.
CSV: `date,kind,name` (a header line is optional; `#` starts a comment line); kind is `holiday` / `休`
or `workday` / `班` (a make-up working day, 调休上班). Every problem is reported with its line (CSV) or
entry (JSON) at once, so an administrator fixes the file in one go; bad input changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.errors import InvalidInput
from app.workdays import FIRST_YEAR

LAST_YEAR = 2100
MAX_NAME = 60
MAX_BYTES = 256 * 1024
KINDS = {"holiday": "holiday", "休": "holiday", "workday": "workday", "班": "workday"}
_DATE = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*$")
WEEKDAYS_ZH = "一二三四五六日"


@dataclass(frozen=True)
class DayEntry:
    """One day of an arrangement: a holiday or a make-up working day; `where` names its line."""

    day: date
    kind: str  # "holiday" | "workday"
    name: str = ""
    where: str = ""


def parse_arrangement(content: bytes | str, year: int | None = None) -> tuple[int, list[DayEntry]]:
    """Read a JSON or CSV arrangement; `year` (if given) is the year the caller expects.

    :raises InvalidInput: unreadable, or any line is wrong (one detail per line).
    """
    if isinstance(content, bytes):
        if len(content) > MAX_BYTES:
            raise _invalid([{"field": "file", "message": "文件太大 / the file is too large"}])
        content = _decode(content)
    text = content.lstrip("\ufeff").strip()
    if not text:
        raise _invalid([{"field": "file", "message": "文件是空的 / the file is empty"}])
    found_year, raw, errors = _read_json(text) if text.startswith("{") else _read_csv(text)
    if year is not None and found_year is not None and found_year != year:
        errors.insert(0, {"field": "year", "message": f"文件是 {found_year} 年的，不是 {year} 年 / "
                          f"the file is for {found_year}, not {year}"})
    target = year or found_year
    if target is None:
        errors.insert(0, {"field": "year", "message": "无法确定年份 / no year given"})
    checked: list[DayEntry] = []
    if target is not None:
        try:
            checked = validate_entries(target, raw, allow_empty=bool(errors))
        except InvalidInput as exc:
            errors.extend(exc.details)
    if errors or target is None:
        raise _invalid(sorted(errors, key=_line_order))
    return target, checked


def _line_order(detail: dict[str, Any]) -> tuple[int, int]:
    number = re.search(r"\d+", str(detail.get("field", "")))
    return (1, int(number.group())) if number else (0, 0)


def validate_entries(year: int, entries: Iterable[DayEntry | dict[str, Any]], allow_empty: bool = False
                     ) -> list[DayEntry]:
    """Check a year's entries: dates in that year, known kinds, no duplicates, a make-up working day on
    a weekend. Returns them as `DayEntry`s in date order.

    :raises InvalidInput: one detail per bad entry.
    """
    errors: list[dict[str, str]] = []
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _invalid([{"field": "year", "message": f"年份须在 {FIRST_YEAR}–{LAST_YEAR} 之间 / "
                         f"the year must be between {FIRST_YEAR} and {LAST_YEAR}"}])
    seen: dict[date, str] = {}
    out: list[DayEntry] = []
    for i, raw in enumerate(entries):
        entry = raw if isinstance(raw, DayEntry) else _entry(raw, f"days[{i}]", errors)
        if entry is None:
            continue
        problem = day_problem(entry.day, entry.kind, entry.name, year)
        if problem is None and entry.day in seen:
            problem = f"{entry.day} 重复（另见 {seen[entry.day]}） / {entry.day} is listed twice (see {seen[entry.day]})"
        if problem:
            errors.append({"field": entry.where or f"days[{i}]", "message": problem})
            continue
        seen[entry.day] = entry.where or f"days[{i}]"
        out.append(entry)
    if not out and not errors and not allow_empty:
        errors.append({"field": "days", "message": "没有任何节假日或调休日 / the arrangement lists no days"})
    if errors:
        raise _invalid(errors)
    return sorted(out, key=lambda e: e.day)


def day_problem(day: date, kind: str, name: str, year: int | None = None) -> str | None:
    """Why this day cannot be set so (bilingual), or None."""
    if year is not None and day.year != year:
        return f"{day} 不在 {year} 年内 / {day} is not in {year}"
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        return f"{day} 超出日历范围 / {day} is outside the calendar ({FIRST_YEAR}–{LAST_YEAR})"
    if kind not in ("holiday", "workday"):
        return f"未知类型“{kind}” / unknown kind '{kind}' (holiday, workday, 休, 班)"
    if kind == "workday" and day.weekday() < 5:
        return (f"{day} 是星期{WEEKDAYS_ZH[day.weekday()]}，调休上班日必须是周末 / {day} is a "
                f"{day.strftime('%A')}: a make-up working day must be a Saturday or Sunday")
    if len(name) > MAX_NAME:
        return f"名称超过 {MAX_NAME} 个字 / the name is longer than {MAX_NAME} characters"
    return None


def parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    match = _DATE.match(str(value or ""))
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _entry(raw: Any, where: str, errors: list[dict[str, str]]) -> DayEntry | None:
    if not isinstance(raw, dict):
        errors.append({"field": where, "message": "应为 {date, kind, name} / expected {date, kind, name}"})
        return None
    day = parse_date(raw.get("date"))
    kind = KINDS.get(str(raw.get("kind") or "").strip().lower(), str(raw.get("kind") or "").strip())
    if day is None:
        errors.append({"field": where, "message": f"日期无效“{raw.get('date')}” / not a date: '{raw.get('date')}'"})
        return None
    return DayEntry(day, kind, str(raw.get("name") or "").strip(), where)


def _read_json(text: str) -> tuple[int | None, list[DayEntry], list[dict[str, str]]]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        return None, [], [{"field": f"line {line}" if line else "file",
                           "message": "不是有效的 JSON / not valid JSON"}]
    errors: list[dict[str, str]] = []
    year = data.get("year") if isinstance(data, dict) else None
    if not isinstance(year, int) or isinstance(year, bool):
        errors.append({"field": "year", "message": "缺少年份（整数） / 'year' must be a whole number"})
        year = None
    days = data.get("days") if isinstance(data, dict) else None
    if not isinstance(days, list):
        errors.append({"field": "days", "message": "缺少 days 列表 / 'days' must be a list"})
        days = []
    entries = [e for i, raw in enumerate(days) if (e := _entry(raw, f"days[{i}]", errors)) is not None]
    return year, entries, errors


def _read_csv(text: str) -> tuple[int | None, list[DayEntry], list[dict[str, str]]]:
    errors: list[dict[str, str]] = []
    entries: list[DayEntry] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() in ("date", "日期"):
            continue
        entry = _entry({"date": cells[0], "kind": cells[1] if len(cells) > 1 else "",
                        "name": ",".join(cells[2:])}, f"line {number}", errors)
        if entry is not None:
            entries.append(entry)
    years = [e.day.year for e in entries]
    return (max(set(years), key=years.count) if years else None), entries, errors


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # spreadsheets saved on Chinese Windows
            return content.decode("gb18030")
        except UnicodeDecodeError:
            raise _invalid([{"field": "file", "message": "无法识别文件编码（请用 UTF-8） / "
                             "cannot read the file: save it as UTF-8"}]) from None


def _invalid(details: list[dict[str, str]]) -> InvalidInput:
    return InvalidInput("工作日历安排有误 / the calendar arrangement has errors", details)
