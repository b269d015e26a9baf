"""The database storage behind the rate limits serves `limits`' fixed window as well as the moving window
the app uses, on the injected clock."""

from __future__ import annotations

from datetime import timedelta

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from app.services.identity.ratestore import DatabaseStorage


def test_a_fixed_window_allows_the_limit_then_opens_again_when_it_ends(ctx, clock):
    storage = DatabaseStorage(ctx)
    limiter, three = FixedWindowRateLimiter(storage), parse("3/minute")
    assert [limiter.hit(three, "10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(three, "10.0.0.2")  # another key counts apart
    reset_at, remaining = limiter.get_window_stats(three, "10.0.0.1")
    assert remaining == 0 and reset_at == (clock.now() + timedelta(minutes=1)).timestamp()
    clock.advance(timedelta(seconds=59))
    assert not limiter.hit(three, "10.0.0.1")  # the window the first hit opened still holds
    clock.advance(timedelta(seconds=2))
    assert limiter.hit(three, "10.0.0.1") and limiter.get_window_stats(three, "10.0.0.1")[1] == 2
