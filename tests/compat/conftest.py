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
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from pgcluster import PgCluster

# --- Python-version shims (documented in README.md) -------------------------
# hologram-python 0.10.3's CustomCloud.periodicMessageRunning() calls
# Thread.isAlive(), which Python 3.9 removed (renamed is_alive()).
if not hasattr(threading.Thread, "isAlive"):
    threading.Thread.isAlive = threading.Thread.is_alive

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

READY_TIMEOUT = float(os.environ.get("COMPAT_READY_TIMEOUT", "60"))


def thingstead_bin():
    path = os.environ.get("THINGSTEAD_BIN") or os.path.join(REPO, "target", "debug", "thingstead")
    if not os.access(path, os.X_OK):
        pytest.exit(
            "thingstead binary not found at %s (build it with "
            "`cargo build --locked -p thingstead-cli` or set THINGSTEAD_BIN)" % path,
            returncode=3,
        )
    return path


def child_env():
    """Environment for thingstead processes.

    THINGSTEAD_BIN is this suite's own variable; the server reads THINGSTEAD_*
    variables as settings and rejects unknown ones, so it is not passed on.
    """
    env = dict(os.environ)
    env.pop("THINGSTEAD_BIN", None)
    env.pop("THINGSTEAD_COMPAT_BACKEND", None)
    env.update(_store_env)
    return env


# The store settings of every thingstead process (set for PostgreSQL).
_store_env = {}


class Server:
    """A running `thingstead serve` plus helpers for its admin CLI and REST API."""

    def __init__(self, binary, data_dir, log_path):
        self.binary = binary
        self.data_dir = data_dir
        self.log_path = log_path
        self.proc = None
        self.http = None  # "127.0.0.1:PORT"
        self.device_host = None
        self.device_port = None
        self._admin_style = None

    # -- lifecycle --
    def start(self):
        ready = os.path.join(self.data_dir, "ready.json")
        os.makedirs(os.path.join(self.data_dir, "data"), exist_ok=True)
        # Cloud-to-device pushes go only where a device last connected from,
        # or into push.allowed_networks: the inbound tests listen on loopback
        # for devices that have not sent anything, so the operator allows it.
        config = os.path.join(self.data_dir, "thingstead.toml")
        with open(config, "w") as f:
            f.write('[push]\nallowed_networks = ["127.0.0.1/32"]\n')
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                self.binary, "serve",
                "--config", config,
                "--data-dir", os.path.join(self.data_dir, "data"),
                "--http", "127.0.0.1:0",
                "--device-tcp", "127.0.0.1:0",
                "--ready-file", ready,
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=child_env(),
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    "thingstead serve exited with %s before becoming ready:\n%s"
                    % (self.proc.returncode, self.log_tail())
                )
            if os.path.exists(ready):
                try:
                    with open(ready) as f:
                        info = json.load(f)
                    break
                except ValueError:
                    pass  # should be atomic, but tolerate a partial write once
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "thingstead serve did not write %s within %ss:\n%s"
                    % (ready, READY_TIMEOUT, self.log_tail())
                )
            time.sleep(0.05)
        self.http = info["http"]
        host, port = info["device_tcp"].rsplit(":", 1)
        self.device_host, self.device_port = host, int(port)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()

    def log_tail(self, lines=60):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return "(no server log)"
        return "\n".join(data[-lines:])

    # -- admin CLI --
    def admin(self, *args):
        """Run `thingstead admin` on the server's data dir; return its JSON output."""
        data = os.path.join(self.data_dir, "data")
        styles = [self._admin_style] if self._admin_style else ["before", "after"]
        last = None
        for style in styles:
            if style == "before":
                cmd = [self.binary, "admin", "--data-dir", data] + list(args)
            else:
                cmd = [self.binary, "admin"] + list(args) + ["--data-dir", data]
            last = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, env=child_env())
            if last.returncode == 0:
                self._admin_style = style
                out = last.stdout.decode().strip()
                try:
                    return json.loads(out)
                except ValueError:
                    raise AssertionError("`%s` did not print one JSON object: %r" % (" ".join(cmd), out))
        raise AssertionError(
            "`%s` failed (%s):\nstdout: %s\nstderr: %s"
            % (" ".join(cmd), last.returncode, last.stdout.decode(), last.stderr.decode())
        )

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
    binary = thingstead_bin()
    tmp = tempfile.mkdtemp(prefix="thingstead-compat-")
    backend = os.environ.get("THINGSTEAD_COMPAT_BACKEND", "sqlite")
    pg = None
    if backend == "postgres":
        pg = PgCluster().start()
        key = os.path.join(tmp, "master.key")
        subprocess.run(
            [binary, "admin", "master-key", "generate", "--out", key],
            check=True, stdout=subprocess.DEVNULL, env=child_env(), timeout=60,
        )
        _store_env.update({
            "THINGSTEAD_STORE__BACKEND": "postgres",
            "THINGSTEAD_STORE__URL": pg.url,
            "THINGSTEAD_SECRETS__MASTER_KEY_FILE": key,
        })
    elif backend != "sqlite":
        pytest.exit("THINGSTEAD_COMPAT_BACKEND must be sqlite or postgres, not %r" % backend, returncode=3)
    srv = Server(binary, tmp, os.path.join(tmp, "server.log"))
    request.config._compat_server = srv
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        if pg is not None:
            pg.stop()
    if request.session.testsfailed or os.environ.get("COMPAT_KEEP_DATA"):
        print("\nthingstead compat: data dir and server log kept in %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)


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
