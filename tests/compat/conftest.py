"""Fixtures for the hologram-python 0.10.3 compatibility suite.

One Thingstead server (``thingstead serve``) is started per test session on
a temporary data directory; every test gets a fresh organization, device and
API key created with ``thingstead admin``. With
``THINGSTEAD_COMPAT_BACKEND=postgres`` the server and the admin commands use
the PostgreSQL store on a throwaway cluster (pgcluster.py) instead of the
embedded one. See README.md.
"""

import base64
import json
import re
import secrets
import socket
import string
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import thingstead_compat

# --- Python-version shims (documented in README.md) -------------------------
# hologram-python 0.10.3's CustomCloud.periodicMessageRunning() calls
# Thread.isAlive(), which Python 3.9 removed (renamed is_alive()).
if not hasattr(threading.Thread, "isAlive"):
    threading.Thread.isAlive = threading.Thread.is_alive

# The server's config: cloud-to-device pushes go only where a device last
# connected from, or into push.allowed_networks: the inbound tests listen on
# loopback for devices that have not sent anything, so the operator allows it.
SERVER_CONFIG = '[push]\nallowed_networks = ["127.0.0.1/32"]\n'


class Server(thingstead_compat.Server):
    """The shared server (thingstead_compat.py) plus the device face's REST API."""

    # -- REST --
    def rest(self, method, path, apikey, params=None, body=None):
        """Return (status, decoded JSON body or raw text)."""
        q = dict(params or {})
        q["apikey"] = apikey
        url = "http://%s%s?%s" % (self.http, path, urllib.parse.urlencode(q))
        data = None
        headers = {}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def messages(self, dev, **params):
        """Stored messages of a device, decoded: list of {"payload": bytes, "tags": [...], "record": {...}}."""
        params.setdefault("limit", 100)
        status, body = self.rest("GET", "/api/1/csr/rdm", dev["apikey"], dict(params, deviceid=dev["uuid"]))
        assert status == 200, "GET /api/1/csr/rdm -> %s %r" % (status, body)
        assert isinstance(body, dict) and body.get("success") is True, body
        out = []
        for rec in body["data"]:
            inner = rec["data"]
            assert isinstance(inner, str), "record 'data' must be a JSON string, got %r" % (inner,)
            obj = json.loads(inner)
            out.append({
                "payload": base64.b64decode(obj["data"]),
                "tags": obj.get("tags") or [],
                "record": rec,
            })
        return out

    def wait_messages(self, dev, predicate, timeout=5.0):
        """Poll the REST API until predicate(messages) is true; return the last list."""
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages(dev)
            if predicate(msgs) or time.monotonic() > deadline:
                return msgs
            time.sleep(0.1)


@pytest.fixture(scope="session")
def server(request):
    session = thingstead_compat.Session(config=SERVER_CONFIG, server_class=Server)
    problem = session.problem()
    if problem:
        pytest.exit(problem, returncode=3)
    try:
        srv = session.start()
        request.config._compat_server = srv
        yield srv
    finally:
        session.stop(keep=bool(request.session.testsfailed))


_counter = [0]


@pytest.fixture
def device(server, request):
    """A fresh organization with one device and one API key.

    Returns {"org", "uuid", "name", "secret", "devicekey", "apikey"}.
    """
    _counter[0] += 1
    org = "compat-%d-%s" % (_counter[0], secrets.token_hex(3))
    server.admin("org", "create", org)
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40] or "device"
    dev = server.admin("device", "create", "--org", org, "--name", name)
    for key in ("uuid", "devicekey"):
        assert key in dev, "`admin device create` output lacks %r: %r" % (key, dev)
    key = dev["devicekey"]
    assert len(key) == 8 and all(c in string.ascii_lowercase + string.digits for c in key), key
    ak = server.admin("apikey", "create", "--org", org)
    return dict(dev, org=org, apikey=ak["apikey"])


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def free_port():
    return _free_port()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    srv = getattr(config, "_compat_server", None)
    if srv is not None and exitstatus != 0:
        terminalreporter.section("thingstead server log (tail)")
        terminalreporter.write_line(srv.log_tail())
