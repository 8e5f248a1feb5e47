"""Fixtures for the iots 0.5.0 compatibility suite (Python 3.11).

One `thingstead serve` per session on a fresh data dir, started by the
shared module tests/compat/thingstead_compat.py (also on PostgreSQL with
THINGSTEAD_COMPAT_BACKEND=postgres). Every test gets a fresh space (an
organization) with OAuth2 clients made by `thingstead admin client create`,
as an operator would, and talks to the server with the unmodified iots
`API`. See tests/compat/README.md.
"""

import os
import re
import sys

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


@pytest.fixture(scope="session")
def server(request):
    session = thingstead_compat.Session(prefix="thingstead-compat-iots-")
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
