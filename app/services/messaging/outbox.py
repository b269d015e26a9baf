"""The outbox dispatcher: hands due e-mails and text messages to the configured sender, retrying with
backoff.

One call claims up to `batch` due rows in a short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL;
SQLite serializes writers), marks them "sending" with a lease and commits; then sends each and records
the outcome in its own transaction. Two dispatchers therefore never claim the same message, and a
message is marked sent right after its sender returns. One message's failure never stops the others: a
failed send is logged with the message id and retried after `backoff`; an outcome that cannot be recorded
is logged and the message is retried once its lease runs out.

Delivery is exactly once except in one window: a dispatcher killed (or cut off from the database)
after its sender accepted a message but before "sent" was committed leaves the message "sending"; once
the lease runs out another dispatcher sends it again. That makes delivery at-least-once for that crash
window only; senders that can should pass `OutgoingMessage.idempotency_key` (the message id) to their
gateway so the gateway drops the repeat.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update

from app.models import OutboxMessage
from app.services.context import ServiceContext

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(minutes=5)
DEFAULT_MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class OutgoingMessage:
    """What a sender gets: a snapshot of the outbox row, detached from any session."""

    id: int
    channel: str  # "email" | "sms"
    recipient: str
    subject: str
    body: str
    attempt: int  # 1 for the first try

    @property
    def idempotency_key(self) -> str:
        return f"banjian-outbox-{self.id}"


class Sender(Protocol):
    def send(self, message: OutgoingMessage) -> None:
        """Deliver the message or raise; any exception counts as a failed attempt."""
        ...


class Undeliverable(Exception):
    """Raised by a sender that can never deliver this message (no retry): the row is marked "skipped"."""


class LoggingSender:
    """The default: writes one log line per text message instead of sending it. E-mail reaching it means
    no SMTP server is configured: those are marked "skipped" (visible in the outbox) rather than "sent"."""

    def send(self, message: OutgoingMessage) -> None:
        if message.channel == "email":
            raise Undeliverable("no SMTP server configured (BANJIAN_SMTP_HOST)")
        log.info("outbox %s #%s to %s: %s", message.channel, message.id, message.recipient,
                 message.subject or message.body[:60])


# Sender factories by name; each gets the settings mapping (the app config).
SENDERS: dict[str, Callable[[Mapping[str, Any]], Sender]] = {"logging": lambda settings: LoggingSender()}


def make_sender(spec: str, settings: Mapping[str, Any] | None = None) -> Sender:
    """The sender named by OUTBOX_SENDER: a registered name ("logging") or "package.module:factory",
    a callable taking the settings mapping and returning a sender.

    :raises ValueError: an unknown name, or a factory that does not import or gives no `send`.
    """
    settings = settings or {}
    sender = _named_sender(spec, settings)
    if not settings.get("SMTP_HOST"):
        return sender
    from .smtp import SmtpSender  # here, not at the top: smtp imports this module's OutgoingMessage

    return ChannelRouter({"email": SmtpSender.from_settings(settings)}, sender)


class ChannelRouter:
    """E-mail to the SMTP sender, every other channel to the sender OUTBOX_SENDER names."""

    def __init__(self, by_channel: Mapping[str, Sender], fallback: Sender) -> None:
        self.by_channel, self.fallback = dict(by_channel), fallback

    def send(self, message: OutgoingMessage) -> None:
        self.by_channel.get(message.channel, self.fallback).send(message)


def _named_sender(spec: str, settings: Mapping[str, Any]) -> Sender:
    if spec in SENDERS:
        return SENDERS[spec](settings)
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"OUTBOX_SENDER must be one of {', '.join(SENDERS)} or 'package.module:factory', got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"OUTBOX_SENDER {spec!r} cannot be imported: {exc}") from exc
    sender = factory(settings)
    if not callable(getattr(sender, "send", None)):
        raise ValueError(f"OUTBOX_SENDER {spec!r} gave {sender!r}, which has no send(message)")
    return sender  # type: ignore[no-any-return]


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 1, 2, 4, 8 ... minutes, at most an hour."""
    return min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 10)), MAX_BACKOFF)


def dispatch_outbox(ctx: ServiceContext, now: datetime, batch: int = 100, *, sender: Sender | None = None,
                    max_attempts: int = DEFAULT_MAX_ATTEMPTS, lease: timedelta = DEFAULT_LEASE) -> int:
    """Send up to `batch` messages due at `now`; returns how many were sent.

    A failed message is retried after `backoff(attempts)` and given up ("failed") after `max_attempts`.
    """
    sender = sender or LoggingSender()
    claimed = _claim(ctx, now, batch, lease, max_attempts)
    started, sent = ctx.clock.now(), 0
    for position, message in enumerate(claimed):
        # Stop well inside the lease, so no other dispatcher takes over a message this one still sends.
        if ctx.clock.now() - started >= lease / 2:
            _release(ctx, claimed[position:])
            break
        sent += _dispatch_one(ctx, sender, message, max_attempts)
    return sent


def _dispatch_one(ctx: ServiceContext, sender: Sender, message: OutgoingMessage, max_attempts: int) -> int:
    """1 if sent. Whatever fails stays with this message: a failed send waits its backoff; a failure to
    record the outcome leaves the row "sending" until its lease runs out, and then it is tried again."""
    try:
        try:
            sender.send(message)
        except Undeliverable as exc:
            _skipped(ctx, message, exc)
            return 0
        except Exception as exc:  # noqa: BLE001  (any failure of a pluggable sender is one failed attempt)
            _failed(ctx, message, exc, max_attempts)
            return 0
        return _sent(ctx, message)
    except Exception:  # noqa: BLE001  (the other messages go on)
        log.exception("outbox #%s: the outcome of attempt %s could not be recorded; retried after the lease",
                      message.id, message.attempt)
        return 0


def _claim(ctx: ServiceContext, now: datetime, batch: int, lease: timedelta, max_attempts: int) -> list[OutgoingMessage]:
    with ctx.uow(write=True) as uow:
        # While a message is being sent its `next_attempt_at` is its lease's end: one index finds both the
        # pending messages due now and those whose dispatcher died.
        query = (select(OutboxMessage).where(OutboxMessage.next_attempt_at <= now,
                                             OutboxMessage.state.in_(("pending", "sending")))
                 .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(batch))
        if ctx.db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        claimed = []
        for row in uow.session.scalars(query):
            if row.state == "sending" and row.attempts >= max_attempts:
                _give_up(row, "the dispatcher stopped during the last attempt")
                continue
            row.state, row.attempts = "sending", row.attempts + 1
            row.lease_until = row.next_attempt_at = now + lease
            claimed.append(OutgoingMessage(row.id, row.channel, row.recipient, row.subject, row.body, row.attempts))
        uow.commit()
    return claimed


def _mine(message: OutgoingMessage) -> Any:
    """Still this dispatcher's claim: a dispatcher that took over after the lease bumped `attempts`."""
    return (OutboxMessage.id == message.id) & (OutboxMessage.state == "sending") & (
        OutboxMessage.attempts == message.attempt)


def _sent(ctx: ServiceContext, message: OutgoingMessage) -> int:
    with ctx.uow(write=True) as uow:
        done = uow.session.execute(update(OutboxMessage).where(_mine(message)).values(
            state="sent", sent_at=ctx.clock.now(), next_attempt_at=None, lease_until=None, last_error=None)).rowcount
        uow.commit()
    if not done:
        log.warning("outbox #%s was sent after its lease ran out (another dispatcher may send it again)", message.id)
    return 1


def _failed(ctx: ServiceContext, message: OutgoingMessage, exc: Exception, max_attempts: int) -> None:
    # PostgreSQL text cannot hold NUL, which a gateway's error may carry.
    error = f"{type(exc).__name__}: {exc}".replace("\x00", "\\0")[:2000]
    with ctx.uow(write=True) as uow:
        row = uow.session.scalar(select(OutboxMessage).where(_mine(message)))
        if row is not None:
            if message.attempt >= max_attempts:
                _give_up(row, error)
            else:
                row.state, row.last_error, row.lease_until = "pending", error, None
                row.next_attempt_at = ctx.clock.now() + backoff(message.attempt)
        uow.commit()
    log.warning("outbox #%s attempt %s failed: %s", message.id, message.attempt, error)


def _skipped(ctx: ServiceContext, message: OutgoingMessage, exc: Undeliverable) -> None:
    with ctx.uow(write=True) as uow:
        uow.session.execute(update(OutboxMessage).where(_mine(message)).values(
            state="skipped", last_error=str(exc)[:2000], next_attempt_at=None, lease_until=None))
        uow.commit()
    log.info("outbox #%s skipped: %s", message.id, exc)


def _give_up(row: OutboxMessage, error: str) -> None:
    row.state, row.last_error, row.next_attempt_at, row.lease_until = "failed", error, None, None


def _release(ctx: ServiceContext, messages: list[OutgoingMessage]) -> None:
    """Hand back claimed messages this call had no time to send, as if never tried."""
    with ctx.uow(write=True) as uow:
        for message in messages:
            uow.session.execute(update(OutboxMessage).where(_mine(message)).values(
                state="pending", attempts=message.attempt - 1, next_attempt_at=ctx.clock.now(), lease_until=None))
        uow.commit()
