"""Counting attempts against a limit per key (e.g. failed tracking lookups per client address), in the
database so that every web process shares one count; time comes from the injected clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, insert, select

from app.errors import TooManyAttempts
from app.models import RateLimitHit
from app.services.context import ServiceContext


@dataclass(frozen=True)
class Limit:
    """At most `attempts` counted attempts per key within `window`."""

    name: str
    attempts: int
    window: timedelta


# Public tracking: a case number and a six-character suffix can be guessed, so failures are counted.
TRACK = Limit("track", 10, timedelta(minutes=10))


def check(ctx: ServiceContext, limit: Limit, client: str) -> None:
    """:raises TooManyAttempts: `client` has used up `limit` within its window."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        s = uow.session
        key = _key(limit, client)
        count, first = s.execute(select(func.count(), func.min(RateLimitHit.at))
                                 .where(RateLimitHit.key == key, RateLimitHit.at > now - limit.window)).one()
    if count >= limit.attempts:
        retry_after = max(int((first + limit.window - now).total_seconds()) + 1, 1)
        raise TooManyAttempts("尝试次数过多，请稍后再试 / too many attempts; please try again later", retry_after)


def count_attempt(ctx: ServiceContext, limit: Limit, client: str) -> None:
    """Count one attempt for `client`, and drop this limit's attempts that have left the window."""
    now = ctx.clock.now()
    with ctx.uow(write=True) as uow:
        s = uow.session
        s.execute(delete(RateLimitHit).where(RateLimitHit.key.startswith(f"{limit.name}:", autoescape=True),
                                             RateLimitHit.at <= now - limit.window))
        s.execute(insert(RateLimitHit).values(key=_key(limit, client), at=now))
        uow.commit()


def _key(limit: Limit, client: str) -> str:
    return f"{limit.name}:{client}"[:128]
