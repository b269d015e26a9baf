"""Milestone message templates: the shipped defaults, administrators' edits, and safe rendering.

A template is Jinja2 text run in an immutable sandbox with only the case fields below: no attribute of a
Python object, no filter that reaches outside, no way to change anything. Rendering a stored template can
still fail at send time (a field holds something odd); the message then falls back to the default text, so
a bad edit never stops the case step that raised it. Saving refuses a template that does not parse, names a
field that does not exist, or does not render against sample fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.models import TEMPLATE_LOCALES, MessageTemplate

# What a template may name; the milestone fills those it knows, the others are empty.
FIELDS = {
    "case_no": "办件编号 / case number", "item_name": "事项名称 / item", "applicant_name": "申请人 / applicant",
    "received_on": "收件日期 / received on", "promised_date": "承诺办结日期 / promised date",
    "deadline": "期限 / deadline", "missing": "需补正的材料（列表）/ missing materials (a list)",
    "reason": "理由 / reason", "procedure_name": "特别程序 / special procedure",
    "expected_days": "预计工作日 / expected working days", "days": "延长工作日 / days added",
    "licence_no": "证照编号 / licence number", "tracking_no": "邮件单号 / tracking number",
    "organ": "实施机关 / organ", "phone": "咨询电话 / phone",
    "pickup_place": "领取地点 / pickup place", "pickup_hours": "领取时间 / opening hours",
    "carrier": "寄递企业 / carrier", "mail_address": "邮寄地址 / mail address",
    "rating_link": "评价页面地址 / rating page", "rate_by": "评价截止日期 / rate by",
}
SAMPLE = {
    "case_no": "SC2026120300001", "item_name": "食品经营许可", "applicant_name": "张三", "received_on": "2026-12-03",
    "promised_date": "2026-12-17", "deadline": "2026-12-10", "missing": ["营业执照副本", "场所平面图"],
    "reason": "申请材料不齐全", "procedure_name": "现场核查", "expected_days": 5, "days": 10,
    "licence_no": "JY13101000001", "tracking_no": "EMS1234567890", "organ": "市场监督管理局", "phone": "12345",
    "pickup_place": "市民之家一楼统一出件窗口", "pickup_hours": "周一至周五 9:00—17:00", "carrier": "中国邮政EMS",
    "mail_address": "武汉市江岸区沿江大道100号",
    "rating_link": "/my/cases/SC2026120300001/rate", "rate_by": "2026-12-10",
}
MAX_SUBJECT, MAX_BODY = 200, 2000

_ZH_MISSING = "{% for m in missing %}{{ m }}{% if not loop.last %}、{% endif %}{% endfor %}"
_EN_MISSING = "{{ missing | join(', ') }}"
# (zh subject, zh body, en subject, en body) per event; the keys are what `milestones.notify` accepts.
DEFAULTS: dict[str, tuple[str, str, str, str]] = {
    "receipt": ("办件 {{ case_no }} 已收件", "您申请的「{{ item_name }}」已于 {{ received_on }} 收件，办件编号 {{ case_no }}。",
                "Case {{ case_no }} received", "Your application for {{ item_name }} was received on {{ received_on }}."),
    "correction": ("办件 {{ case_no }} 需补正材料",
                   "您申请的「{{ item_name }}」需补正以下材料：" + _ZH_MISSING + "。请于 {{ deadline }} 前补正。",
                   "Case {{ case_no }}: materials missing",
                   "Your application for {{ item_name }} needs: " + _EN_MISSING + ". Please supply them by {{ deadline }}."),
    "acceptance": ("办件 {{ case_no }} 已受理", "您申请的「{{ item_name }}」已受理，承诺于 {{ promised_date }} 前办结。",
                   "Case {{ case_no }} accepted",
                   "Your application for {{ item_name }} was accepted; promised by {{ promised_date }}."),
    "refusal": ("办件 {{ case_no }} 不予受理", "您申请的「{{ item_name }}」不予受理。理由：{{ reason }}",
                "Case {{ case_no }} not accepted", "Your application for {{ item_name }} was not accepted: {{ reason }}"),
    "special_procedure_start": (
        "办件 {{ case_no }} 进入特别程序",
        "您申请的「{{ item_name }}」进入{{ procedure_name }}，预计 {{ expected_days }} 个工作日，所需时间不计入审查期限。",
        "Case {{ case_no }}: special procedure",
        "{{ procedure_name }} started for {{ item_name }} (about {{ expected_days }} working days, not counted)."),
    "special_procedure_end": (
        "办件 {{ case_no }} 特别程序结束", "您申请的「{{ item_name }}」{{ procedure_name }}已结束，审查继续计时。",
        "Case {{ case_no }}: special procedure ended", "{{ procedure_name }} for {{ item_name }} ended; review goes on."),
    "extension": ("办件 {{ case_no }} 审查期限已延长",
                  "经本机关负责人批准，「{{ item_name }}」审查期限延长 {{ days }} 个工作日，至 {{ deadline }}。理由：{{ reason }}",
                  "Case {{ case_no }}: review extended",
                  "The review of {{ item_name }} was extended by {{ days }} working days to {{ deadline }}: {{ reason }}"),
    "decision_granted": ("办件 {{ case_no }} 准予许可", "您申请的「{{ item_name }}」已作出准予许可决定。",
                         "Case {{ case_no }} granted", "Your application for {{ item_name }} was granted."),
    "decision_refused": ("办件 {{ case_no }} 不予许可", "您申请的「{{ item_name }}」不予许可。理由：{{ reason }}",
                         "Case {{ case_no }} refused", "Your application for {{ item_name }} was refused: {{ reason }}"),
    "licence_ready": ("办件 {{ case_no }} 证照可领取",
                      "「{{ item_name }}」证照（编号 {{ licence_no }}）已制作完成，请持身份证件到"
                      "{{ pickup_place or '窗口' }}领取{% if pickup_hours %}（{{ pickup_hours }}）{% endif %}；"
                      "代领请携带委托书和代领人身份证件。",
                      "Case {{ case_no }}: licence ready",
                      "Your licence {{ licence_no }} for {{ item_name }} is ready: collect it with your ID at "
                      "{{ pickup_place or 'the service window' }}{% if pickup_hours %} ({{ pickup_hours }}){% endif %}."),
    "licence_mailed": ("办件 {{ case_no }} 证照已寄出",
                       "「{{ item_name }}」证照（编号 {{ licence_no }}）已{% if carrier %}由{{ carrier }}{% endif %}邮寄"
                       "{% if mail_address %}至 {{ mail_address }}{% endif %}，邮件单号 {{ tracking_no }}。",
                       "Case {{ case_no }}: licence mailed",
                       "Your licence {{ licence_no }} was mailed{% if carrier %} by {{ carrier }}{% endif %}, "
                       "tracking number {{ tracking_no }}."),
    "delay": ("办件 {{ case_no }} 办理延误", "您申请的「{{ item_name }}」已超过办理期限，已提醒承办部门负责人尽快办理。",
              "Case {{ case_no }} delayed", "Your application for {{ item_name }} is overdue; the head of the department was alerted."),
    "rating_invite": ("请评价办件 {{ case_no }}", "您申请的「{{ item_name }}」已办结，欢迎对本次服务作出评价（{{ rate_by }} 前）：{{ rating_link }}",
                      "Please rate case {{ case_no }}",
                      "{{ item_name }} is complete. Please rate our service by {{ rate_by }}: {{ rating_link }}"),
    "rating_reminder": ("办件 {{ case_no }} 尚未评价", "您对「{{ item_name }}」的服务尚未评价，评价将于 {{ rate_by }} 截止：{{ rating_link }}",
                        "Case {{ case_no }} not yet rated",
                        "You have not rated {{ item_name }} yet; rating closes on {{ rate_by }}: {{ rating_link }}"),
}
EVENTS = tuple(DEFAULTS)

MAX_PRODUCT = 10_000  # characters or list items a template's `*` may make


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, and `'x' * 10**9` refused: the sandbox bounds `range` but not repetition."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("'**' is not allowed in a message template")
        sequence, count = (left, right) if isinstance(left, (str, list, tuple)) else (right, left)
        if isinstance(sequence, (str, list, tuple)) and isinstance(count, int) and len(sequence) * count > MAX_PRODUCT:
            raise SecurityError(f"a template may repeat text to at most {MAX_PRODUCT} characters")
        return super().call_binop(context, operator, left, right)


_env = _Sandbox(autoescape=False, undefined=StrictUndefined, trim_blocks=True)


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


@dataclass(frozen=True)
class TemplateView:
    event: str
    locale: str
    subject: str
    body: str
    edited: bool  # False: the shipped default
    updated_at: datetime | None


def default(event: str, locale: str) -> Text:
    zh_subject, zh_body, en_subject, en_body = DEFAULTS[event]
    return Text(zh_subject, zh_body) if locale == "zh" else Text(en_subject, en_body)


def current(s: Session, event: str, locale: str) -> TemplateView:
    """The template in force: the administrator's edit, else the default."""
    _known(event, locale)
    row = s.scalar(select(MessageTemplate).where(MessageTemplate.event == event, MessageTemplate.locale == locale))
    if row is None:
        text = default(event, locale)
        return TemplateView(event, locale, text.subject, text.body, False, None)
    return TemplateView(event, locale, row.subject, row.body, True, row.updated_at)


def render(s: Session, event: str, locale: str, fields: Mapping[str, Any]) -> Text:
    """The message for these fields; a stored template that fails here gives way to the default."""
    template = current(s, event, locale)
    values = complete(fields)
    try:
        return Text(_render(template.subject, values)[:MAX_SUBJECT], _render(template.body, values)[:MAX_BODY])
    except (TemplateError, ValueError, TypeError):
        text = default(event, locale)
        return Text(_render(text.subject, values)[:MAX_SUBJECT], _render(text.body, values)[:MAX_BODY])


def check(subject: str, body: str) -> Text:
    """Render a proposed template against the sample fields (the preview).

    :raises InvalidInput: empty or too long, does not parse, names an unknown field, or fails to render.
    """
    errors = []
    for name, source, limit in (("subject", subject, MAX_SUBJECT), ("body", body, MAX_BODY)):
        problem = _problem(source, limit)
        if problem:
            errors.append({"field": name, "message": problem})
    if errors:
        raise InvalidInput("模板有误 / invalid template", errors)
    return Text(_render(subject, SAMPLE), _render(body, SAMPLE))


def save(s: Session, event: str, locale: str, subject: str, body: str, now: datetime,
         actor_id: int | None) -> tuple[TemplateView, TemplateView]:
    """Store an edit (after `check`) in the caller's transaction; returns (before, after).

    :raises InvalidInput: unknown event or locale, or a template `check` refuses.
    """
    _known(event, locale)
    check(subject, body)
    before = current(s, event, locale)
    row = s.scalar(select(MessageTemplate).where(MessageTemplate.event == event, MessageTemplate.locale == locale))
    if row is None:
        row = MessageTemplate(event=event, locale=locale)
        s.add(row)
    row.subject, row.body, row.updated_at, row.updated_by = subject, body, now, actor_id
    s.flush()
    return before, current(s, event, locale)


def complete(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Every known field present (empty when the milestone does not know it); nothing else passes."""
    values: dict[str, Any] = {name: "" for name in FIELDS}
    values["missing"] = []
    values.update({k: v for k, v in fields.items() if k in FIELDS and v is not None})
    return values


def _problem(source: str, limit: int) -> str | None:
    if not source.strip():
        return "不能为空 / required"
    if len(source) > limit:
        return f"不能超过 {limit} 个字符 / at most {limit} characters"
    try:
        names = meta.find_undeclared_variables(_env.parse(source))
    except TemplateError as exc:
        return f"模板语法错误：{exc} / syntax error: {exc}"
    unknown = sorted(names - set(FIELDS))
    if unknown:
        return f"未知字段：{', '.join(unknown)} / unknown field(s): {', '.join(unknown)}"
    try:
        _render(source, SAMPLE)
    except Exception as exc:  # noqa: BLE001  (whatever a template does wrong is reported, not raised)
        return f"模板无法生成：{exc} / cannot render: {exc}"
    return None


def _render(source: str, values: Mapping[str, Any]) -> str:
    return _env.from_string(source).render(values).strip()


def _known(event: str, locale: str) -> None:
    if event not in DEFAULTS or locale not in TEMPLATE_LOCALES:
        raise InvalidInput("没有这个消息模板 / no such template",
                           [{"field": "event", "message": f"unknown event or locale {event!r}/{locale!r}"}])
