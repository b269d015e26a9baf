"""Limits on guessing: failed sign-ins per account and per client address, registrations per address,
failed tracking lookups per address. One mechanism: `limits`' moving-window strategy over a storage in
our database (table rate_limit_hits), so every web process shares the counts; time comes from the
injected clock.

An attempt takes its slot *before* the guarded work runs (the check and the count are one locked step),
so N concurrent guesses against a limit of L evaluate exactly L; a slot is handed back when the work
ends in a way that should not count (a successful lookup or sign-in)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from limits import RateLimitItem, parse
from limits.strategies import MovingWindowRateLimiter

from app.errors import TooManyAttempts
from app.services.context import ServiceContext
from app.services.identity.ratestore import DatabaseStorage


@dataclass(frozen=True)
class Limit:
    """At most `rule` (in `limits` notation, e.g. "10 per 10 minutes") counted attempts per key."""

    name: str
    rule: str
    message: str
    item: RateLimitItem = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "item", parse(self.rule))


# Public tracking: a case number and a six-character suffix can be guessed, so failures are counted.
TRACK = Limit("track", "10 per 10 minutes", "查询失败次数过多，请稍后再试 / too many failed lookups; try again later")
# Sign-in: per account stops guessing one password; per address stops trying one password on many.
LOGIN_ACCOUNT = Limit("login-account", "5 per 15 minutes",
                      "该账号登录失败次数过多，请稍后再试 / too many failed sign-ins for this account; try again later")
LOGIN_ADDRESS = Limit("login-address", "20 per 15 minutes",
                      "登录失败次数过多，请稍后再试 / too many failed sign-ins; try again later")
# Registration tells whether an ID number is registered: refused attempts are counted, per address.
REGISTER = Limit("register", "10 per hour", "注册尝试次数过多，请稍后再试 / too many registrations; try again later")


@contextmanager
def attempt(ctx: ServiceContext, *slots: tuple[Limit, str],
            counts: type[BaseException] | tuple[type[BaseException], ...] = BaseException) -> Iterator[None]:
    """Take one slot of each (limit, key) for the enclosed work; keep them if the work raises `counts`,
    give them back otherwise.

    :raises TooManyAttempts: a limit is used up; no slot is kept and the work does not run.
    """
    taken = _take(ctx, slots)
    try:
        yield
    except counts:
        raise
    except BaseException:
        _give_back(ctx, taken)
        raise
    _give_back(ctx, taken)


def take(ctx: ServiceContext, limit: Limit, key: str) -> None:
    """Take one slot for an attempt whose outcome is known later (`give_back` if it should not count).

    :raises TooManyAttempts: the limit is used up; nothing is counted.
    """
    _take(ctx, ((limit, key),))


def give_back(ctx: ServiceContext, limit: Limit, key: str) -> None:
    """Hand back a slot taken with `take`."""
    _give_back(ctx, [(limit, key)])


def forget(ctx: ServiceContext, limit: Limit, key: str) -> None:
    """Drop every attempt counted under (limit, key), e.g. an account's failures once it signs in."""
    DatabaseStorage(ctx).clear(_key(limit, key))


def _take(ctx: ServiceContext, slots: tuple[tuple[Limit, str], ...]) -> list[tuple[Limit, str]]:
    limiter = MovingWindowRateLimiter(DatabaseStorage(ctx))
    taken: list[tuple[Limit, str]] = []
    for limit, key in slots:
        if not limiter.hit(limit.item, *_ids(limit, key)):
            _give_back(ctx, taken)
            reset = limiter.get_window_stats(limit.item, *_ids(limit, key)).reset_time
            retry_after = max(math.ceil(reset - ctx.clock.now().timestamp()), 1)
            raise TooManyAttempts(limit.message, retry_after)
        taken.append((limit, key))
    return taken


def _give_back(ctx: ServiceContext, taken: list[tuple[Limit, str]]) -> None:
    storage = DatabaseStorage(ctx)
    for limit, key in taken:
        storage.release_entry(_key(limit, key))


def _ids(limit: Limit, key: str) -> tuple[str, str]:
    # Keys are user input (a user name) or an address: bounded so the stored key fits its column.
    return limit.name, key.strip().lower()[:64] or "-"


def _key(limit: Limit, key: str) -> str:
    return limit.item.key_for(*_ids(limit, key))
