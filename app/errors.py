"""Domain errors.

Services, the engine and the form validator raise these; `app/api/errors.py` is the one place that maps
them to HTTP. Each carries a list of `{"field"|"element_id": ..., "message": ...}` details so the API
and the CLI can show exactly what is wrong.
"""

from __future__ import annotations

from typing import Any

ErrorDetail = dict[str, Any]


class DomainError(Exception):
    """Base class: a message plus optional field- or element-level details."""

    status = 400  # a hint for the HTTP layer; services never use it

    def __init__(self, message: str, details: list[ErrorDetail] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[ErrorDetail] = details or []

    def as_errors(self) -> list[ErrorDetail]:
        return self.details or [{"message": self.message}]


class NotFound(DomainError):
    status = 404


class CaseNotFound(NotFound):
    pass


class TaskNotFound(NotFound):
    pass


class ItemNotFound(NotFound):
    pass


class ProcessNotFound(NotFound):
    pass


class UserNotFound(NotFound):
    pass


class AuthenticationFailed(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotACandidate(Forbidden):
    """The user is neither a candidate nor the assignee of the task."""


class Conflict(DomainError):
    status = 409


class TaskAlreadyCompleted(Conflict):
    pass


class TaskClaimedByOther(Conflict):
    pass


class DuplicateName(Conflict):
    pass


class TooManyAttempts(DomainError):
    """Too many attempts from one client within a time window; `retry_after` in seconds."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidInput(DomainError):
    """Bad request data (400)."""


class InvalidForm(DomainError):
    """Form data that does not satisfy the form definition (422).

    `field_errors` maps a field key to its messages.
    """

    status = 422

    def __init__(self, field_errors: dict[str, list[str]], message: str = "表单数据无效 / invalid form data"):
        details = [{"field": k, "message": "; ".join(v)} for k, v in sorted(field_errors.items())]
        super().__init__(message, details)
        self.field_errors = field_errors


class InvalidProcess(DomainError):
    """A BPMN file that cannot be deployed; details name the BPMN element ids."""


class ProcessError(DomainError):
    """The engine failed while running a step (script error, time limit...): the case is unchanged and
    an incident has been recorded."""

    status = 422

    def __init__(self, message: str, element_id: str | None = None, incident_id: int | None = None):
        details = [{"element_id": element_id, "message": message}] if element_id else []
        super().__init__(message, details)
        self.element_id = element_id
        self.incident_id = incident_id
