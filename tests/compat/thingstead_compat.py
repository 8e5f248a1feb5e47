"""Shared by the compatibility suites: start a real `thingstead serve` for a
pytest session, run `thingstead admin` against its data dir, and (with
THINGSTEAD_COMPAT_BACKEND=postgres) put both on a throwaway PostgreSQL
cluster (pgcluster.py).

Imported by tests/compat/conftest.py (hologram-python, Python 3.9) and by
tests/compat/exp/conftest.py (exp-sdk, Python 2.7), so it must stay valid
Python 2.7 and 3: no f-strings, no keyword-only arguments, no
subprocess.run, time.monotonic, secrets or exist_ok (see the shims below).
"""

from __future__ import print_function

import binascii
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

READY_TIMEOUT = float(os.environ.get("COMPAT_READY_TIMEOUT", "60"))

# --- Python 2/3 shims ---------------------------------------------------------

monotonic = getattr(time, "monotonic", time.time)


def token_hex(nbytes):
    """secrets.token_hex for Python 2 and 3."""
    return binascii.hexlify(os.urandom(nbytes)).decode("ascii")


def makedirs(path):
    """os.makedirs(path, exist_ok=True) for Python 2 and 3."""
    if not os.path.isdir(path):
        os.makedirs(path)


class CommandResult(object):
    """What `run` returns: returncode, stdout and stderr (bytes)."""

    def __init__(self, returncode, stdout, stderr, timed_out):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out


def run(cmd, timeout=60, env=None, cwd=None, stdin_data=None):
    """subprocess.run(cmd, stdout=PIPE, stderr=PIPE, timeout=...) for Python 2 and 3.

    On timeout the process is killed and `timed_out` is set (no exception).
    """
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    expired = []

    def kill():
        expired.append(True)
        try:
            proc.kill()
        except OSError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        out, err = proc.communicate(stdin_data)
    finally:
        timer.cancel()
    return CommandResult(proc.returncode, out, err, bool(expired))


def wait_process(proc, timeout):
    """Popen.wait(timeout) for Python 2 and 3; True when the process ended."""
    deadline = monotonic() + timeout
    while proc.poll() is None:
        if monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# --- the server ----------------------------------------------------------------


def default_binary():
    """$THINGSTEAD_BIN, else target/debug/thingstead in the repository."""
    return os.environ.get("THINGSTEAD_BIN") or os.path.join(REPO, "target", "debug", "thingstead")


# The store settings of every thingstead process (set for PostgreSQL).
_store_env = {}


def child_env():
    """Environment for thingstead processes.

    THINGSTEAD_BIN and THINGSTEAD_COMPAT_BACKEND are the suites' own
    variables, not settings, so they are not passed on.
    """
    env = dict(os.environ)
    env.pop("THINGSTEAD_BIN", None)
    env.pop("THINGSTEAD_COMPAT_BACKEND", None)
    env.update(_store_env)
    return env


class Server(object):
    """A running `thingstead serve` plus its admin CLI.

    `data_dir` is the session's temporary directory: the server's data dir is
    `data_dir/data`, its config `data_dir/thingstead.toml`, its ready file
    `data_dir/ready.json`.
    """

    def __init__(self, binary, data_dir, log_path, config=""):
        self.binary = binary
        self.data_dir = data_dir
        self.log_path = log_path
        self.config = config
        self.proc = None
        self.http = None  # "127.0.0.1:PORT"
        self.device_host = None
        self.device_port = None
        self._log = None
        self._admin_style = None

    @property
    def base_url(self):
        return "http://%s" % self.http

    # -- lifecycle --
    def start(self):
        ready = os.path.join(self.data_dir, "ready.json")
        makedirs(os.path.join(self.data_dir, "data"))
        config = os.path.join(self.data_dir, "thingstead.toml")
        with open(config, "w") as f:
            f.write(self.config)
        self._log = open(self.log_path, "wb")
        devnull = open(os.devnull, "rb")
        try:
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
                stdin=devnull,
                env=child_env(),
            )
        finally:
            devnull.close()
        deadline = monotonic() + READY_TIMEOUT
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
            if monotonic() > deadline:
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
            if not wait_process(self.proc, 10):
                self.proc.kill()
                wait_process(self.proc, 10)
        self._log.close()
        self.proc = None

    def log_tail(self, lines=60):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read().decode("utf-8", "replace").splitlines()
        except (IOError, OSError):
            return "(no server log)"
        return "\n".join(data[-lines:])

    # -- admin CLI --
    def admin(self, *args, **kwargs):
        """Run `thingstead admin ARGS` on the server's data dir; return its JSON output.

        Keyword argument `stdin` (bytes) is fed to the command.
        """
        data = os.path.join(self.data_dir, "data")
        styles = [self._admin_style] if self._admin_style else ["before", "after"]
        last = cmd = None
        for style in styles:
            if style == "before":
                cmd = [self.binary, "admin", "--data-dir", data] + list(args)
            else:
                cmd = [self.binary, "admin"] + list(args) + ["--data-dir", data]
            last = run(cmd, timeout=60, env=child_env(), stdin_data=kwargs.get("stdin"))
            if last.returncode == 0:
                self._admin_style = style
                out = last.stdout.decode("utf-8").strip()
                try:
                    return json.loads(out)
                except ValueError:
                    raise AssertionError("`%s` did not print one JSON object: %r" % (" ".join(cmd), out))
        raise AssertionError(
            "`%s` failed (%s%s):\nstdout: %s\nstderr: %s"
            % (
                " ".join(cmd), last.returncode, ", timed out" if last.timed_out else "",
                last.stdout.decode("utf-8", "replace"), last.stderr.decode("utf-8", "replace"),
            )
        )


class Session(object):
    """One server for a pytest session, on the backend THINGSTEAD_COMPAT_BACKEND
    names (sqlite, the default, or postgres).

    `problem()` says why it cannot start (missing binary, bad backend name);
    `start()` raises RuntimeError for those and when the server does not come
    up, and returns the server (a `server_class`, default `Server`). `stop(keep)` stops
    everything and removes the temporary directory unless `keep` (then
    prints where it is).
    """

    def __init__(self, config="", prefix="thingstead-compat-", server_class=Server):
        self.config = config
        self.server_class = server_class
        self.prefix = prefix
        self.binary = default_binary()
        self.backend = os.environ.get("THINGSTEAD_COMPAT_BACKEND", "sqlite")
        self.tmp = None
        self.pg = None
        self.server = None

    def problem(self):
        """Why this session cannot start (a message for pytest.exit), or None."""
        if not os.access(self.binary, os.X_OK):
            return (
                "thingstead binary not found at %s (build it with "
                "`cargo build --locked -p thingstead-cli` or set THINGSTEAD_BIN)" % self.binary
            )
        if self.backend not in ("sqlite", "postgres"):
            return "THINGSTEAD_COMPAT_BACKEND must be sqlite or postgres, not %r" % self.backend
        return None

    def start(self):
        problem = self.problem()
        if problem:
            raise RuntimeError(problem)
        self.tmp = tempfile.mkdtemp(prefix=self.prefix)
        if self.backend == "postgres":
            from pgcluster import PgCluster

            self.pg = PgCluster().start()
            key = os.path.join(self.tmp, "master.key")
            out = run([self.binary, "admin", "master-key", "generate", "--out", key], env=child_env())
            if out.returncode != 0:
                raise RuntimeError("admin master-key generate failed: %s" % out.stderr.decode("utf-8", "replace"))
            _store_env.update({
                "THINGSTEAD_STORE__BACKEND": "postgres",
                "THINGSTEAD_STORE__URL": self.pg.url,
                "THINGSTEAD_SECRETS__MASTER_KEY_FILE": key,
            })
        self.server = self.server_class(self.binary, self.tmp, os.path.join(self.tmp, "server.log"), self.config)
        self.server.start()
        return self.server

    def stop(self, keep=False):
        try:
            if self.server is not None:
                self.server.stop()
        finally:
            if self.pg is not None:
                self.pg.stop()
                self.pg = None
            _store_env.clear()
        if self.tmp is None:
            return
        if keep or os.environ.get("COMPAT_KEEP_DATA"):
            print("\nthingstead compat: data dir and server log kept in %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
