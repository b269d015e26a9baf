"""Passwords and API bearer tokens."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import AuthenticationFailed
from app.models import User
from app.services.context import ServiceContext
from app.services.identity.principal import Principal

_SALT = "banjian-api-token"


def hash_password(password: str, method: str = "scrypt") -> str:
    return generate_password_hash(password, method=method)


def authenticate(ctx: ServiceContext, username: str, password: str) -> Principal:
    """The user with these credentials.

    :raises AuthenticationFailed: unknown user, wrong password or inactive account.
    """
    with ctx.uow() as uow:
        user = _load(uow.session, User.username == username)
        if user is None or not user.active or not check_password_hash(user.password_hash, password):
            raise AuthenticationFailed("用户名或密码错误 / wrong user name or password")
        return Principal.of(user)


def issue_token(ctx: ServiceContext, username: str, password: str) -> str:
    """A signed bearer token for valid credentials.

    :raises AuthenticationFailed: unknown user, wrong password or inactive account.
    """
    principal = authenticate(ctx, username, password)
    return _serializer(ctx).dumps({"uid": principal.id, "pw": principal.password_stamp})


def principal_by_id(ctx: ServiceContext, user_id: int, stamp: str | None = None) -> Principal | None:
    """The active user with this id (for web sessions); None if gone, inactive, or if `stamp` is given
    and the password changed since."""
    with ctx.uow() as uow:
        user = _load(uow.session, User.id == user_id)
        if user is None or not user.active or (stamp is not None and user.password_hash[-8:] != stamp):
            return None
        return Principal.of(user)


def principal_from_token(ctx: ServiceContext, token: str) -> Principal:
    """The user a token was issued to; a password change invalidates older tokens.

    :raises AuthenticationFailed: bad, expired or revoked token.
    """
    try:
        payload = _serializer(ctx).loads(token, max_age=ctx.token_max_age)
    except SignatureExpired as exc:
        raise AuthenticationFailed("令牌已过期 / token expired") from exc
    except BadSignature as exc:
        raise AuthenticationFailed("令牌无效 / invalid token") from exc
    principal = principal_by_id(ctx, int(payload.get("uid", 0)), str(payload.get("pw")))
    if principal is None:
        raise AuthenticationFailed("令牌无效 / invalid token")
    return principal


def _load(session: Any, condition: Any) -> User | None:
    user: User | None = session.scalars(select(User).options(joinedload(User.groups), joinedload(User.department))
                                        .where(condition)).unique().one_or_none()
    return user


def _serializer(ctx: ServiceContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.secret_key, salt=_SALT)
