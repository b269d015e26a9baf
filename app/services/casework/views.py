"""Plain-dict views of models, so callers above the services never touch ORM objects."""

from __future__ import annotations

from typing import Any

from app.models import Case, CaseEvent, HumanTask


def case_summary(case: Case) -> dict[str, Any]:
    definition = case.process_definition
    return {
        "case_no": case.case_no, "status": case.status, "stage": case.stage,
        "item_code": case.item.code, "item_name": case.item.name,
        "department": case.item.department.code, "department_name": case.item.department.name,
        "applicant": case.applicant.username, "applicant_name": case.applicant.full_name,
        "applicant_contact_name": case.applicant.contact_name,
        "process_key": definition.key if definition else None,
        "process_version": definition.version if definition else None,
        "received_at": case.received_at, "accepted_at": case.accepted_at, "decided_at": case.decided_at,
        "closed_at": case.closed_at, "created_at": case.created_at, "updated_at": case.updated_at,
        "version": case.version,
    }


def task_view(task: HumanTask, assignee: str | None, case: Case) -> dict[str, Any]:
    return {
        "id": task.id, "case_no": case.case_no, "task_key": task.task_key, "name": task.name,
        "stage": task.stage, "form_key": task.form_key, "department": task.department,
        "item_code": case.item.code, "item_name": case.item.name, "applicant_name": case.applicant.full_name,
        "candidate_groups": list(task.candidate_groups), "candidate_users": list(task.candidate_users),
        "assignee": assignee, "claimed_at": task.claimed_at, "created_at": task.created_at,
        "due_at": task.due_at,
    }


def event_view(event: CaseEvent, staff: bool) -> dict[str, Any]:
    actor = event.actor
    view: dict[str, Any] = {
        "id": event.id, "at": event.at, "action": event.action, "task_id": event.task_id,
        "task_key": event.task_key,
        "task_name": event.task_name, "message": event.message,
        "actor": actor.username if actor else None, "actor_name": actor.full_name if actor else None,
        "actor_staff_no": actor.staff_no if actor else None,
    }
    if staff:  # applicants see what happened, not the internal data of every step
        view.update(data_before=event.data_before, data_after=event.data_after)
    return view
