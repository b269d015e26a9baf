"""Searching the inbox by case number (or its start) or by the applicant's name or user name: first the
cases a search finds, on indexes of their own, so that a view reads only their tasks or events."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.models import Case, User

Applicant = aliased(User, name="applicant")
FOUND_LIMIT = 5000  # cases found by a search, at most, for their tasks and events to be read case by case

CASE_NO_LIKE = re.compile(r"[A-Za-z]{2,8}\d{6,}")
CASE_NO_PART = re.compile(r"[A-Za-z0-9]+")  # what part of a case number (prefix + digits) may look like


def search_text(text: str | None) -> str:
    return (text or "").strip()[:100]


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def found_cases(s: Session, text: str | None) -> Select[Any] | None:
    """Ids of the cases a search finds, looked up first on indexes of their own, so that a view reads only
    their tasks or events: a case number or its start is a range on the unique index; a text that cannot
    be part of a case number (a name, a user name) finds the cases of the matching applicants.

    None when there is no search; when the text may be part of a case number, which needs a scan; or when
    it finds more than FOUND_LIMIT cases. Then each task or event in my views is tested (see search).
    """
    text = search_text(text)
    if not text:
        return None
    if CASE_NO_LIKE.fullmatch(text):
        prefix = text.upper()
        found = select(Case.id).where(Case.case_no >= prefix, Case.case_no < prefix + "~")
    elif CASE_NO_PART.fullmatch(text):
        return None
    else:
        applicants = select(User.id).where(or_(User.full_name.ilike(_like(text), escape="\\"),
                                               User.username == text))
        found = select(Case.id).where(Case.applicant_id.in_(applicants))
    many = s.scalar(select(func.count()).select_from(found.limit(FOUND_LIMIT + 1).subquery())) or 0
    return found if many <= FOUND_LIMIT else None


def search(query: Select[Any], text: str | None) -> Select[Any]:
    """A case number or part of it, or an applicant's name or user name, tested on each row of the joined
    query."""
    text = search_text(text)
    if not text:
        return query
    if CASE_NO_LIKE.fullmatch(text):  # a case number (or its start): a range on the unique index
        prefix = text.upper()
        return query.where(Case.case_no >= prefix, Case.case_no < prefix + "~")
    pattern = _like(text)
    return query.where(or_(Case.case_no.ilike(pattern, escape="\\"), Applicant.full_name.ilike(pattern, escape="\\"),
                           Applicant.username == text))
