"""A local SMTP server for tests: just enough of RFC 5321 (no extensions), in a thread, to receive what
smtplib sends, so e-mail is checked as it arrives rather than by mocking the sender."""

from __future__ import annotations

import socket
import threading


class SmtpServer:
    """Just enough SMTP (RFC 5321, no extensions) in a thread to receive what smtplib sends."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.messages: list[tuple[str, list[str], str]] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.sock.close()
        self.thread.join(5)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as rfile:
                self._session(conn, rfile)

    def _session(self, conn, rfile) -> None:
        conn.sendall(b"220 test\r\n")
        mail_from, rcpt = "", []
        for raw in rfile:
            line = raw.decode().rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                conn.sendall(b"250 test\r\n")
            elif verb == "MAIL":
                mail_from = line.split(":", 1)[1].strip().strip("<>").split(">")[0]
                conn.sendall(b"250 ok\r\n")
            elif verb == "RCPT":
                rcpt.append(line.split(":", 1)[1].strip().strip("<>"))
                conn.sendall(b"250 ok\r\n")
            elif verb == "DATA":
                conn.sendall(b"354 go\r\n")
                lines = []
                for data_line in rfile:
                    if data_line in (b".\r\n", b".\n"):
                        break
                    lines.append(data_line.decode())
                self.messages.append((mail_from, rcpt, "".join(lines)))
                conn.sendall(b"250 queued\r\n")
            elif verb == "QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")
