"""Passwords and API bearer tokens."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import AuthenticationFailed, Forbidden, InvalidInput
from app.models import User
from app.services import audit
from app.services.context import ServiceContext
from app.services.identity import ratelimit
from app.services.identity.principal import Principal

_SALT = "banjian-api-token"
MIN_PASSWORD = 8


class AccountDisabled(AuthenticationFailed):
    """The right password for an account an administrator has disabled."""


class PasswordChangeRequired(Forbidden):
    """An administrator chose this password: the user must pick their own before getting a token."""


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
        if user is None or not matches:
            raise AuthenticationFailed("用户名或密码错误 / wrong user name or password")
        if not user.active:  # said only to whoever knows the password: it tells them whom to ask
            raise AccountDisabled("账号已停用，请联系管理员 / this account is disabled; ask an administrator")
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
    :raises PasswordChangeRequired: an administrator set the password; change it first (`change_password`).
    :raises TooManyAttempts: see `authenticate`.
    """
    principal = authenticate(ctx, username, password, client)
    if principal.must_change_password:
        raise PasswordChangeRequired("需先修改密码：管理员设置的密码须由本人修改后才能使用（POST /auth/password） / "
                                     "a password change is needed first: POST /auth/password")
    return _serializer(ctx).dumps({"uid": principal.id, "pw": principal.password_stamp,
                                   "sv": principal.session_version})


def change_password(ctx: ServiceContext, username: str, password: str, new_password: str,
                    client: str | None = None) -> Principal:
    """The user picks a new password, proving the current one; other sessions and tokens end (the stamp
    changes) and a required change is done.

    :raises AuthenticationFailed: wrong current password (limited like sign-in; see `authenticate`).
    :raises InvalidInput: the new password is too short or the same as the current one.
    """
    errors = _new_password_errors(password, new_password)
    who = authenticate(ctx, username, password, client)
    if errors:
        raise InvalidInput("新密码无效 / invalid new password", errors)
    with ctx.uow(write=True) as uow:
        user = _load(uow.session, User.id == who.id)
        assert user is not None
        user.password_hash = hash_password(new_password, ctx.password_method)
        was_required, user.must_change_password = user.must_change_password, False
        audit.record(uow.session, who, ctx.clock.now(), "user.password_change", "user", user.id,
                     f"{user.username} 修改了自己的密码 / changed their own password",
                     {"must_change_password": was_required}, {"must_change_password": False})
        uow.session.flush()
        principal = Principal.of(user)
        uow.commit()
    return principal


def _new_password_errors(password: str, new_password: str) -> list[dict[str, str]]:
    if len(new_password) < MIN_PASSWORD or len(new_password) > 256:
        return [{"field": "new_password", "message": "新密码须为 8-256 个字符 / 8-256 characters"}]
    if new_password == password:
        return [{"field": "new_password", "message": "新密码不能与当前密码相同 / must differ from the current password"}]
    return []


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
