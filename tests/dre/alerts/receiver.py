"""Real servers for the alert tests: an HTTP receiver (a http.server thread on a free port
that checks each request's signature and keeps what it got) and an SMTP mailbox (an
aiosmtpd handler)."""

from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: Message
    body: bytes
    signature_ok: bool

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str = ""
    fail_first: int = 0  # answer 503 to this many requests first
    status: int = 200
    delay: float = 0.0  # seconds to wait before answering
    requests: list[Received] = field(default_factory=list)
    seen_ids: set = field(default_factory=set)  # what a receiver dedups on

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def handle(self, headers: Message, body: bytes) -> int:
        expected = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        signature = headers.get("X-Signature-SHA256", "")
        self.requests.append(Received(headers, body, hmac.compare_digest(expected, signature)))
        time.sleep(self.delay)
        if len(self.requests) <= self.fail_first:
            return 503
        self.seen_ids.add(headers.get("Dre-Delivery"))
        return self.status

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                # self.headers looks names up case-insensitively, as HTTP says they are.
                self.send_response(receiver.handle(self.headers, body))
                self.end_headers()
                with contextlib.suppress(OSError):  # a sender that timed out has hung up
                    self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """aiosmtpd handler: keeps every message it accepts; refuses the first `refuse`."""

    def __init__(self):
        self.messages, self.refuse = [], 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 Try again later"
        self.messages.append(
            (
                envelope.rcpt_tos,
                email.message_from_bytes(envelope.content, policy=email.policy.default),
            )
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
