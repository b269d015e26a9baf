"""Sending outbox e-mails through an SMTP server (BANJIAN_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM, _TLS).

One connection per message: the outbox sends a few messages per tick, and a fresh connection cannot fail
on a link the server closed meanwhile. The message id goes out as the Message-ID, so a server or a reader
can tell a repeat after the dispatcher's crash window (see outbox.py) from a new message.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from .outbox import OutgoingMessage

TLS_MODES = ("off", "starttls", "ssl")


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str  # the From address
    user: str = ""
    password: str = ""
    tls: str = "starttls"  # TLS_MODES
    timeout: float = 30

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> SmtpSender:
        """:raises ValueError: no From address, a port that is not a number, or an unknown TLS mode."""
        tls = str(settings.get("SMTP_TLS") or "starttls").strip().lower()
        if tls not in TLS_MODES:
            raise ValueError(f"BANJIAN_SMTP_TLS must be one of {', '.join(TLS_MODES)}, got {tls!r}")
        if not settings.get("SMTP_FROM"):
            raise ValueError("BANJIAN_SMTP_FROM (the sender address) is required with BANJIAN_SMTP_HOST")
        try:
            port = int(settings.get("SMTP_PORT") or (465 if tls == "ssl" else 587 if tls == "starttls" else 25))
        except ValueError as exc:
            raise ValueError(f"BANJIAN_SMTP_PORT must be a number, got {settings.get('SMTP_PORT')!r}") from exc
        return cls(str(settings["SMTP_HOST"]), port, str(settings["SMTP_FROM"]), str(settings.get("SMTP_USER") or ""),
                   str(settings.get("SMTP_PASSWORD") or ""), tls)

    def send(self, message: OutgoingMessage) -> None:
        """Deliver one e-mail or raise (smtplib's errors count as a failed attempt, retried later)."""
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, message.recipient, message.subject
        mail["Message-ID"] = make_msgid(message.idempotency_key, self.sender.rpartition("@")[2] or None)
        mail.set_content(message.body)
        with self._connect() as server:
            if self.user:
                server.login(self.user, self.password)
            server.send_message(mail)

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.tls == "starttls":
            server.starttls(context=ssl.create_default_context())
        return server
