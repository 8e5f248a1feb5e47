"""Fixtures for the iots 0.5.0 compatibility suite (Python 3.11).

One `thingstead serve` per session on a fresh data dir, started by the
shared module tests/compat/thingstead_compat.py (also on PostgreSQL with
THINGSTEAD_COMPAT_BACKEND=postgres). Every test gets a fresh space (an
organization) with OAuth2 clients made by `thingstead admin client create`,
as an operator would, and talks to the server with the unmodified iots
`API`. See tests/compat/README.md.

The server sends mail through a real SMTP server of the session, aiosmtpd
(`mail_relay`: every message it accepts is in `mail_relay.messages`).
"""

import email
import os
import re
import socket
import sys
import threading

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # thingstead_compat, pgcluster

import thingstead_compat  # noqa: E402

from iots import API  # noqa: E402

_counter = [0]


class Space:
    """A fresh space: `name`, and `client(scopes)` making OAuth2 clients of it."""

    def __init__(self, server, name):
        self.server = server
        self.name = name
        self.host = server.base_url

    def client(self, scopes=("thing", "category")):
        """A new OAuth2 client: {client_id, client_secret, scopes}."""
        created = self.server.admin("client", "create", "--org", self.name, "--scopes", ",".join(scopes))
        for key in ("client_id", "client_secret"):
            assert key in created, "`admin client create` output lacks %r: %r" % (key, created)
        return created

    def api(self):
        """An iots API on this server (plain HTTP, so no TLS verification)."""
        return API(host=self.host, verify=False)


class MailRelay:
    """aiosmtpd on a free port of 127.0.0.1, keeping every message it accepts
    as (envelope sender, envelope recipients, email.message.Message)."""

    def __init__(self):
        self.messages = []
        self._lock = threading.Lock()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        with self._lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def with_subject(self, subject):
        with self._lock:
            return [m for m in self.messages if m[2]["Subject"] == subject]

    def config(self):
        """The server's [smtp] section sending here."""
        return (
            "[smtp]\nhost = \"127.0.0.1\"\nport = %d\ntls = \"none\"\nfrom = \"iot@thingstead.test\"\n"
            % self.port
        )


@pytest.fixture(scope="session")
def mail_relay():
    relay = MailRelay()
    relay._controller.start()
    try:
        yield relay
    finally:
        relay._controller.stop()


@pytest.fixture(scope="session")
def server(request, mail_relay):
    session = thingstead_compat.Session(prefix="thingstead-compat-iots-", config=mail_relay.config())
    problem = session.problem()
    if problem:
        pytest.exit(problem, returncode=3)
    try:
        yield session.start()
    finally:
        session.stop(keep=bool(request.session.testsfailed))


def create_space(server, label):
    _counter[0] += 1
    name = "iots-%d-%s" % (_counter[0], thingstead_compat.token_hex(3))
    server.admin("org", "create", name)
    return Space(server, name)


@pytest.fixture
def space(server, request):
    label = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:30] or "iots"
    return create_space(server, label)


@pytest.fixture
def other_space(server):
    """A second space, for isolation checks."""
    return create_space(server, "other")
