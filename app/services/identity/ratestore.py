"""A `limits` storage in our own database (table rate_limit_hits, one row per counted attempt), for the
moving-window strategy (and the fixed window): every process shares the counts without another server, and the injected clock
is the time, so tests can move it."""

from __future__ import annotations

from datetime import datetime, timedelta

from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.models import RateLimitHit
from app.services.context import ServiceContext


class DatabaseStorage(Storage, MovingWindowSupport):
    """Moving-window entries as rows; taking an entry counts and inserts under a per-key lock (an
    advisory transaction lock on PostgreSQL, the write lock on SQLite), so concurrent takers are
    serialized and never exceed the limit. Built with the service context, not from a storage URI, so
    it registers no URI scheme."""

    STORAGE_SCHEME = None

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__()
        self.ctx = ctx

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        now = self.ctx.clock.now()
        if amount > limit:
            return False
        with self.ctx.uow(write=True) as uow:
            s = uow.session
            self._lock(s, key)
            s.execute(delete(RateLimitHit).where(RateLimitHit.expires_at <= now))  # of every key
            if self._count(s, key, now - timedelta(seconds=expiry))[1] + amount > limit:
                uow.commit()  # the pruning
                return False
            until = now + timedelta(seconds=expiry)
            s.execute(insert(RateLimitHit), [{"key": key, "at": now, "expires_at": until}] * amount)
            uow.commit()
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            first, count = self._count(uow.session, key, now - timedelta(seconds=expiry))
        return (first or now).timestamp(), count

    def release_entry(self, key: str) -> None:
        """Hand back the newest entry of `key` (an attempt that turned out not to count)."""
        with self.ctx.uow(write=True) as uow:
            newest = select(RateLimitHit.id).where(RateLimitHit.key == key).order_by(
                RateLimitHit.at.desc(), RateLimitHit.id.desc()).limit(1).scalar_subquery()
            uow.session.execute(delete(RateLimitHit).where(RateLimitHit.id == newest))
            uow.commit()

    def clear(self, key: str) -> None:
        with self.ctx.uow(write=True) as uow:
            uow.session.execute(delete(RateLimitHit).where(RateLimitHit.key == key))
            uow.commit()

    def reset(self) -> int | None:
        with self.ctx.uow(write=True) as uow:
            count = uow.session.execute(delete(RateLimitHit)).rowcount
            uow.commit()
        return int(count)

    def check(self) -> bool:
        with self.ctx.uow() as uow:
            return uow.session.scalar(select(1)) == 1

    # The fixed-window interface, on the same rows: a window's attempts share the expiry its first one
    # set. The limits use the moving window (exact where the fixed one lets twice the limit through
    # around a window boundary); this keeps the storage whole for either strategy.
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self.ctx.clock.now()
        with self.ctx.uow(write=True) as uow:
            s = uow.session
            self._lock(s, key)
            ends, count = self._window(s, key, now)
            until = ends or now + timedelta(seconds=expiry)
            s.execute(insert(RateLimitHit), [{"key": key, "at": now, "expires_at": until}] * amount)
            uow.commit()
        return count + amount

    def get(self, key: str) -> int:
        with self.ctx.uow() as uow:
            return self._window(uow.session, key, self.ctx.clock.now())[1]

    def get_expiry(self, key: str) -> float:
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            ends = self._window(uow.session, key, now)[0]
        return (ends or now).timestamp()

    @staticmethod
    def _window(s: Session, key: str, now: datetime) -> tuple[datetime | None, int]:
        """When the key's current fixed window ends, and the attempts in it."""
        ends, count = s.execute(select(func.min(RateLimitHit.expires_at), func.count())
                                .where(RateLimitHit.key == key, RateLimitHit.expires_at > now)).one()
        return ends, int(count)

    def _lock(self, s: Session, key: str) -> None:
        if self.ctx.db.is_postgres:  # SQLite: the unit of work already holds the write lock
            s.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})

    @staticmethod
    def _count(s: Session, key: str, after: datetime) -> tuple[datetime | None, int]:
        first, count = s.execute(select(func.min(RateLimitHit.at), func.count())
                                 .where(RateLimitHit.key == key, RateLimitHit.at > after)).one()
        return first, int(count)
