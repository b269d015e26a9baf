"""Notifications raised in the caller's transaction, and the outbox: backoff, retry, leases, and two
dispatchers on PostgreSQL sending every message exactly once."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.models import Notification, OutboxMessage
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.identity.users import create_user
from app.services.messaging.notifications import notify, notify_groups, notify_roles
from app.services.messaging.outbox import DEFAULT_LEASE, OutgoingMessage, dispatch_outbox, make_sender
from tests.conftest import START, build_app, wipe


class Recorder:
    """A sender that remembers what it sent; it can fail a number of times first."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[OutgoingMessage] = []
        self.failures = failures
        self.lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> None:
        with self.lock:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("gateway down")
            self.sent.append(message)


def recording_sender(settings: Mapping[str, Any]) -> Recorder:
    """For OUTBOX_SENDER="tests.integration.test_outbox:recording_sender"."""
    return Recorder()


class Killed(BaseException):
    """The dispatcher's process dies in the middle of a send."""


class Dying:
    def send(self, message: OutgoingMessage) -> None:
        raise Killed


def users(ctx: ServiceContext) -> tuple[Principal, Principal]:
    alice = create_user(ctx, "alice", "secret123", "clerk", ["market.clerk"], phone="13900000001")
    bob = create_user(ctx, "bob", "secret123", "head", ["market.head"])
    return alice, bob


def queue(ctx: ServiceContext, user_id: int, n: int = 1, key: str = "event") -> None:
    with ctx.uow(write=True) as uow:
        for i in range(n):
            notify(uow.session, ctx.clock.now(), [user_id], "alarm", f"Case {i} is overdue", "body",
                   channels=("sms",), dedupe_key=f"{key}-{i}")
        uow.commit()


def outbox(ctx: ServiceContext) -> list[SimpleNamespace]:
    """The outbox rows as plain values (the unit of work expires its objects when it closes)."""
    columns = OutboxMessage.__table__.columns.keys()
    with ctx.uow() as uow:
        return [SimpleNamespace(**{c: getattr(m, c) for c in columns})
                for m in uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def count(ctx: ServiceContext, model: type) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


# --- notify -----------------------------------------------------------------------------------------

def test_notify_writes_in_app_and_outbox_rows_once_per_event(ctx, clock):
    alice, bob = users(ctx)
    with ctx.uow(write=True) as uow:
        first = notify(uow.session, clock.now(), [alice.id, bob.id, alice.id], "alarm", "Overdue", "Case X",
                       channels=("app", "sms", "email"), dedupe_key="alarm:1")
        again = notify(uow.session, clock.now(), [alice.id, bob.id], "alarm", "Overdue", "Case X",
                       channels=("app", "sms", "email"), dedupe_key="alarm:1")
        uow.commit()
    # both in app; SMS only to alice (bob has no phone); no e-mail addresses at all
    assert (first.app, first.outbox) == (2, 1)
    assert (again.app, again.outbox) == (0, 0)
    [sms] = outbox(ctx)
    assert (sms.channel, sms.recipient, sms.user_id, sms.state, sms.next_attempt_at) == (
        "sms", "13900000001", alice.id, "pending", START)
    with ctx.uow() as uow:  # one in-app row each, alice named twice or not
        got = sorted(uow.session.execute(select(Notification.user_id, Notification.title)).all())
    assert got == sorted([(alice.id, "Overdue"), (bob.id, "Overdue")])


def test_notify_does_not_commit_and_rolls_back_with_the_caller(ctx, clock):
    alice, _ = users(ctx)
    with ctx.uow(write=True) as uow:
        notify(uow.session, clock.now(), [alice.id], "notice", "Hello", "", channels=("app", "sms"))
        # the caller fails before committing
    assert count(ctx, Notification) == 0 and count(ctx, OutboxMessage) == 0


def test_notify_groups_and_roles_reach_their_members_only(ctx, clock):
    alice, bob = users(ctx)
    admin = create_user(ctx, "root", "secret123", "admin")
    inactive = create_user(ctx, "gone", "secret123", "head", ["market.head"])
    with ctx.uow(write=True) as uow:
        from app.models import User

        uow.session.get(User, inactive.id).active = False
        uow.commit()
    with ctx.uow(write=True) as uow:
        notify_groups(uow.session, clock.now(), ["market.head"], "supervision_order", "To the head", "")
        notify_roles(uow.session, clock.now(), ["admin"], "calendar_missing", "To the admins", "")
        uow.commit()
    with ctx.uow() as uow:
        got = sorted(uow.session.execute(select(Notification.user_id, Notification.title)).all())
    assert got == sorted([(bob.id, "To the head"), (admin.id, "To the admins")])
    assert alice.id not in {u for u, _ in got}


def test_notify_refuses_links_to_other_sites(ctx, clock):
    alice, _ = users(ctx)
    with ctx.uow(write=True) as uow:
        for bad in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
            with pytest.raises(ValueError):
                notify(uow.session, clock.now(), [alice.id], "notice", "x", "", link=bad)
        with pytest.raises(ValueError):
            notify(uow.session, clock.now(), [alice.id], "no-such-kind", "x", "")


# --- dispatching ------------------------------------------------------------------------------------

def test_backoff_doubles_from_one_minute_to_an_hour_then_gives_up(ctx, clock):
    alice, _ = users(ctx)
    queue(ctx, alice.id)
    always_down = Recorder(failures=100)
    waits = []
    for attempt in range(1, 9):
        before = clock.now()
        assert dispatch_outbox(ctx, clock.now(), sender=always_down, max_attempts=8) == 0
        [msg] = outbox(ctx)
        assert msg.attempts == attempt and msg.last_error == "ConnectionError: gateway down"
        if msg.state == "failed":
            break
        waits.append(msg.next_attempt_at - before)
        # not due a second earlier
        clock.set(msg.next_attempt_at - timedelta(seconds=1))
        assert dispatch_outbox(ctx, clock.now(), sender=always_down) == 0
        assert outbox(ctx)[0].attempts == attempt
        clock.set(msg.next_attempt_at)
    assert [w / timedelta(minutes=1) for w in waits] == [1, 2, 4, 8, 16, 32, 60]
    [msg] = outbox(ctx)
    assert (msg.state, msg.attempts, msg.next_attempt_at) == ("failed", 8, None)
    clock.advance(timedelta(days=1))
    assert dispatch_outbox(ctx, clock.now(), sender=Recorder()) == 0  # given up for good


def test_a_failing_sender_then_succeeding_sends_once(ctx, clock):
    alice, _ = users(ctx)
    queue(ctx, alice.id, 3)
    flaky = Recorder(failures=3)  # every message fails once
    assert dispatch_outbox(ctx, clock.now(), sender=flaky) == 0
    assert {m.state for m in outbox(ctx)} == {"pending"}
    clock.advance(timedelta(minutes=1))
    assert dispatch_outbox(ctx, clock.now(), sender=flaky) == 3
    assert sorted(m.id for m in flaky.sent) == [m.id for m in outbox(ctx)]
    assert [m.attempt for m in flaky.sent] == [2, 2, 2]
    for m in outbox(ctx):
        assert (m.state, m.attempts, m.last_error, m.sent_at) == ("sent", 2, None, clock.now())
    clock.advance(timedelta(days=1))
    assert dispatch_outbox(ctx, clock.now(), sender=flaky) == 0 and len(flaky.sent) == 3


def test_a_dispatcher_killed_mid_send_is_retried_after_its_lease(ctx, clock):
    alice, _ = users(ctx)
    queue(ctx, alice.id)
    with pytest.raises(Killed):
        dispatch_outbox(ctx, clock.now(), sender=Dying())
    [msg] = outbox(ctx)
    assert msg.state == "sending"
    recorder = Recorder()
    clock.advance(DEFAULT_LEASE - timedelta(seconds=1))
    assert dispatch_outbox(ctx, clock.now(), sender=recorder) == 0  # the lease still holds
    clock.advance(timedelta(seconds=1))
    assert dispatch_outbox(ctx, clock.now(), sender=recorder) == 1
    assert [(m.id, m.attempt, m.idempotency_key) for m in recorder.sent] == [(msg.id, 2, f"banjian-outbox-{msg.id}")]


def test_batches_leave_the_rest_for_the_next_call(ctx, clock):
    alice, _ = users(ctx)
    queue(ctx, alice.id, 5)
    recorder = Recorder()
    assert dispatch_outbox(ctx, clock.now(), batch=2, sender=recorder) == 2
    assert dispatch_outbox(ctx, clock.now(), batch=10, sender=recorder) == 3
    assert len({m.id for m in recorder.sent}) == 5


def test_senders_by_name_or_dotted_path():
    assert type(make_sender("logging")).__name__ == "LoggingSender"
    assert isinstance(make_sender("tests.integration.test_outbox:recording_sender"), Recorder)
    for bad in ("carrier-pigeon", "no.such.module:factory", "tests.integration.test_outbox:nothing"):
        with pytest.raises(ValueError, match="OUTBOX_SENDER"):
            make_sender(bad)


# --- two dispatchers on PostgreSQL and on a SQLite file ----------------------------------------------

@pytest.fixture
def pg_app(shared_url: str, clock) -> Iterator[Flask]:
    app = build_app(shared_url, clock)
    try:
        yield app
    finally:
        wipe(app)


class Rendezvous(Recorder):
    """Holds each dispatcher's first send until both have claimed a batch: the claims really overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.barrier = threading.Barrier(2)
        self.waited: set[int] = set()

    def send(self, message: OutgoingMessage) -> None:
        me = threading.get_ident()
        if me not in self.waited:
            self.waited.add(me)
            self.barrier.wait(timeout=30)
        super().send(message)


def test_two_dispatchers_send_each_of_500_messages_exactly_once(pg_app: Flask, clock):
    ctx: ServiceContext = pg_app.extensions["banjian"]
    alice, _ = users(ctx)
    queue(ctx, alice.id, 500)
    sender = Rendezvous()
    sent_by: dict[int, int] = {}
    errors: list[BaseException] = []

    def dispatcher() -> None:
        total = 0
        try:
            while (n := dispatch_outbox(ctx, clock.now(), batch=25, sender=sender)) > 0:
                total += n
        except BaseException as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
        sent_by[threading.get_ident()] = total

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    ids = [m.id for m in sender.sent]
    assert len(ids) == 500 and len(set(ids)) == 500
    assert sorted(sent_by.values())[0] > 0 and sum(sent_by.values()) == 500  # both took part
    rows = outbox(ctx)
    assert {m.state for m in rows} == {"sent"} and {m.attempts for m in rows} == {1}
