"""Who is signed in to the pages: Flask-Login over the services' `Principal`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app
from flask_login import UserMixin, current_user

from app.services.context import ServiceContext
from app.services.identity.principal import Principal

F = TypeVar("F", bound=Callable[..., Any])


class WebUser(UserMixin):
    """The signed-in user as Flask-Login wants it; the session id carries the password stamp and the
    session version, so a password change or signing out ends the session on the server (a kept
    copy of the cookie no longer opens anything)."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    def get_id(self) -> str:
        who = self.principal
        return f"{who.id}:{who.password_stamp}:{who.session_version}"


def ctx() -> ServiceContext:
    context: ServiceContext = current_app.extensions["banjian"]
    return context


def principal() -> Principal:
    """The signed-in user (call only behind `login_required` or a role decorator)."""
    if not current_user.is_authenticated:
        abort(401)
    user: WebUser = current_user  # type: ignore[assignment]
    return user.principal


def roles_required(*roles: str) -> Callable[[F], F]:
    """Only signed-in users with one of `roles` (admin always) may open the page; others get 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not principal().has("admin", *roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


STAFF = ("clerk", "approver", "head", "supervisor", "designer")
staff_required = roles_required(*STAFF)
applicant_required = roles_required("applicant")
