"""Fixtures for the exp-sdk 5.0.0 compatibility suite (Python 2.7).

One `thingstead serve` per session, started by the shared module
tests/compat/thingstead_compat.py (also on PostgreSQL with
THINGSTEAD_COMPAT_BACKEND=postgres). Every test gets a fresh organization
with one user, one device and one consumer app, created with `thingstead
admin` as an operator would, and starts exp-sdk instances against it with
`org.start(...)`; every instance is stopped after the test. See
tests/compat/README.md.
"""

from __future__ import print_function

import os
import re
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # thingstead_compat, pgcluster

import thingstead_compat  # noqa: E402

if sys.version_info[:2] != (2, 7):
    pytest.exit(
        "the exp-sdk 5.0.0 suite runs on Python 2.7 (this is %d.%d): use tests/compat/exp/run.sh"
        % sys.version_info[:2],
        returncode=3,
    )

import exp_sdk  # noqa: E402


_counter = [0]


class Org(object):
    """A fresh organization: `name`, `user` {username, password, organization},
    `device` {uuid, secret, devicekey, name}, `app` {uuid, api_key, name}."""

    def __init__(self, server, name, user, device, app):
        self.server = server
        self.name = name
        self.user = user
        self.device = device
        self.app = app
        self.host = server.base_url
        self._instances = []

    def start(self, enable_network=False, **credentials):
        """exp_sdk.start(host=<our server>, enable_network=..., **credentials)."""
        exp = exp_sdk.start(host=self.host, enable_network=enable_network, **credentials)
        self._instances.append(exp)
        return exp

    def start_user(self, enable_network=False):
        return self.start(enable_network=enable_network, **self.user)

    def start_device(self, enable_network=False):
        return self.start(enable_network=enable_network, uuid=self.device["uuid"], secret=self.device["secret"])

    def start_consumer(self, enable_network=False):
        return self.start(enable_network=enable_network, uuid=self.app["uuid"], api_key=self.app["api_key"])

    def stop_all(self):
        for exp in self._instances:
            try:
                exp.stop()
            except exp_sdk.RuntimeError:
                pass  # already stopped by the test


# The server's config: HTTP JSON feeds may fetch from the tests' local HTTP
# server on loopback (refused by default, as every non-public address is).
SERVER_CONFIG = '[feeds]\nallowed_networks = ["127.0.0.1/32"]\n'


@pytest.fixture(scope="session")
def server(request):
    session = thingstead_compat.Session(config=SERVER_CONFIG, prefix="thingstead-compat-exp-")
    problem = session.problem()
    if problem:
        pytest.exit(problem, returncode=3)
    try:
        srv = session.start()
        request.config._compat_server = srv
        yield srv
    finally:
        exp_sdk.stop()
        session.stop(keep=bool(request.session.testsfailed))


def native(doc):
    """The admin CLI's JSON as native `str` values.

    Python 2's json gives `unicode`; exp-sdk signs its login JWT with
    hmac.new(secret, ...), which needs a byte string key (a literal secret,
    as in the README's examples, is one).
    """
    return dict((str(k), str(v) if isinstance(v, basestring) else v) for k, v in doc.items())  # noqa: F821


def create_org(server, label):
    """A fresh organization with a user, a device and a consumer app."""
    _counter[0] += 1
    name = "exp-%d-%s" % (_counter[0], thingstead_compat.token_hex(3))
    server.admin("org", "create", name)
    password = "pw-" + thingstead_compat.token_hex(8)
    username = "joe-%s@example.com" % thingstead_compat.token_hex(2)
    server.admin(
        "user", "create", "--org", name, "--username", username, "--password-stdin",
        stdin=(password + "\n").encode("utf-8"),
    )
    device = native(server.admin("device", "create", "--org", name, "--name", label))
    for key in ("uuid", "secret"):
        assert key in device, "`admin device create` output lacks %r: %r" % (key, device)
    app = native(server.admin("app", "create", "--org", name, "--name", label))
    for key in ("uuid", "api_key"):
        assert key in app, "`admin app create` output lacks %r: %r" % (key, app)
    user = {"username": username, "password": password, "organization": name}
    return Org(server, name, user, device, app)


@pytest.fixture
def org(server, request):
    label = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40] or "exp"
    o = create_org(server, label)
    try:
        yield o
    finally:
        o.stop_all()


@pytest.fixture
def other_org(server):
    """A second organization, for isolation checks."""
    o = create_org(server, "other")
    try:
        yield o
    finally:
        o.stop_all()


@pytest.fixture
def exp(org):
    """An exp-sdk instance logged in as the organization's user, without the
    realtime network (API calls only)."""
    return org.start_user()


@pytest.fixture
def exp_device(org):
    """An exp-sdk instance logged in as the organization's device (no network)."""
    return org.start_device()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    srv = getattr(config, "_compat_server", None)
    if srv is not None and exitstatus != 0:
        terminalreporter.section("thingstead server log (tail)")
        terminalreporter.write_line(srv.log_tail())
