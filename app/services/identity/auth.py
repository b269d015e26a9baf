"""Passwords and API bearer tokens."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import AuthenticationFailed
from app.models import User
from app.services.context import ServiceContext
from app.services.identity import ratelimit
from app.services.identity.principal import Principal

_SALT = "banjian-api-token"


def hash_password(password: str, method: str = "scrypt") -> str:
    return generate_password_hash(password, method=method)


def authenticate(ctx: ServiceContext, username: str, password: str, client: str | None = None) -> Principal:
    """The user with these credentials. Failures are limited per account and per `client` address;
    an unknown user costs the same hash check as a known one, so timing does not tell which exist.

    :raises AuthenticationFailed: unknown user, wrong password or inactive account.
    :raises TooManyAttempts: too many failures lately for this account or address; nothing checked.
    """
    slots = [(ratelimit.LOGIN_ACCOUNT, username)] + ([(ratelimit.LOGIN_ADDRESS, client)] if client else [])
    with ratelimit.attempt(ctx, *slots, counts=AuthenticationFailed):
        principal = _verify(ctx, username, password)
    ratelimit.forget(ctx, ratelimit.LOGIN_ACCOUNT, username)  # the owner is back: earlier typos lapse
    return principal


def _verify(ctx: ServiceContext, username: str, password: str) -> Principal:
    with ctx.uow() as uow:
        user = _load(uow.session, User.username == username)
        stored = user.password_hash if user is not None else _dummy_hash(ctx.password_method)
        matches = check_password_hash(stored, password)
        if user is None or not user.active or not matches:
            raise AuthenticationFailed("用户名或密码错误 / wrong user name or password")
        return Principal.of(user)


@cache
def _dummy_hash(method: str) -> str:
    """A hash no password matches, made with the same method and cost as the real ones."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def end_sessions(ctx: ServiceContext, user_id: int) -> None:
    """Sign the user out everywhere: every web session and API token issued so far stops working."""
    with ctx.uow(write=True) as uow:
        uow.session.execute(update(User).where(User.id == user_id)
                            .values(session_version=User.session_version + 1))
        uow.commit()


def issue_token(ctx: ServiceContext, username: str, password: str, client: str | None = None) -> str:
    """A signed bearer token for valid credentials, carrying the user's session version.

    :raises AuthenticationFailed: unknown user, wrong password or inactive account.
    :raises TooManyAttempts: see `authenticate`.
    """
    principal = authenticate(ctx, username, password, client)
    return _serializer(ctx).dumps({"uid": principal.id, "pw": principal.password_stamp,
                                   "sv": principal.session_version})


def principal_by_id(ctx: ServiceContext, user_id: int, stamp: str | None = None,
                    session_version: int | None = None) -> Principal | None:
    """The active user with this id (for web sessions); None if gone or inactive, if `stamp` is given
    and the password changed since, or if `session_version` is given and the user signed out since."""
    with ctx.uow() as uow:
        user = _load(uow.session, User.id == user_id)
        if user is None or not user.active or (stamp is not None and user.password_hash[-8:] != stamp):
            return None
        if session_version is not None and user.session_version != session_version:
            return None
        return Principal.of(user)


def principal_from_token(ctx: ServiceContext, token: str) -> Principal:
    """The user a token was issued to; signing out or a password change invalidates older tokens.

    :raises AuthenticationFailed: bad, expired or revoked token.
    """
    try:
        payload = _serializer(ctx).loads(token, max_age=ctx.token_max_age)
    except SignatureExpired as exc:
        raise AuthenticationFailed("令牌已过期 / token expired") from exc
    except BadSignature as exc:
        raise AuthenticationFailed("令牌无效 / invalid token") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int):
        raise AuthenticationFailed("令牌无效 / invalid token")
    principal = principal_by_id(ctx, payload["uid"], str(payload.get("pw")), int(payload.get("sv", -1)))
    if principal is None:
        raise AuthenticationFailed("令牌无效 / invalid token")
    return principal


def _load(session: Any, condition: Any) -> User | None:
    user: User | None = session.scalars(select(User).options(joinedload(User.groups), joinedload(User.department))
                                        .where(condition)).unique().one_or_none()
    return user


def _serializer(ctx: ServiceContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.secret_key, salt=_SALT)
