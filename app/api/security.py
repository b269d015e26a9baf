"""Bearer-token authentication for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from app.errors import AuthenticationFailed
from app.services.context import ServiceContext
from app.services.identity.auth import principal_from_token
from app.services.identity.principal import Principal

F = TypeVar("F", bound=Callable[..., Any])


def ctx() -> ServiceContext:
    context: ServiceContext = current_app.extensions["banjian"]
    return context


def principal() -> Principal:
    value: Principal = g.principal
    return value


def optional_principal() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    return _authenticate(header)


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.principal = _authenticate(request.headers.get("Authorization", ""))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _authenticate(header: str) -> Principal:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("需要登录 / missing bearer token")
    return principal_from_token(ctx(), token.strip())
