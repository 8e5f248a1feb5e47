"""A throwaway PostgreSQL 15 cluster for the compatibility suite on the
PostgreSQL store (THINGSTEAD_COMPAT_BACKEND=postgres), made the way the Rust
testkit makes one (crates/testkit/src/postgres.rs): initdb in a temporary
directory, a postmaster on 127.0.0.1 and an ephemeral port with trust auth,
run as the `postgres` user when we are root; stopped and removed after.

Used by both compatibility suites (Python 3.9 and 2.7): keep it 2/3 compatible.
"""

import os
import shutil
import socket
import tempfile

from thingstead_compat import run

DEFAULT_BIN_DIR = "/usr/lib/postgresql/15/bin"


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PgCluster(object):
    def __init__(self):
        self.bin = os.environ.get("THINGSTEAD_PG_BIN", DEFAULT_BIN_DIR)
        self.dir = None
        self.port = None
        self.as_postgres = os.geteuid() == 0
        self.url = None

    def _run(self, name, *args):
        cmd = [os.path.join(self.bin, name)] + list(args)
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        out = run(cmd, cwd=self.dir, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(
                "%s failed (%s%s): %s%s"
                % (name, out.returncode, ", timed out" if out.timed_out else "",
                   out.stdout.decode("utf-8", "replace"), out.stderr.decode("utf-8", "replace"))
            )

    def start(self):
        if not os.path.isfile(os.path.join(self.bin, "initdb")):
            raise RuntimeError(
                "PostgreSQL binaries not found in %s (apt-get install -y postgresql-15, or set THINGSTEAD_PG_BIN)"
                % self.bin
            )
        self.dir = tempfile.mkdtemp(prefix="thingstead-compat-pg-")
        data, sockets = os.path.join(self.dir, "data"), os.path.join(self.dir, "sockets")
        os.mkdir(sockets)
        if self.as_postgres:
            out = run(["chown", "-R", "postgres:postgres", self.dir])
            if out.returncode != 0:
                raise RuntimeError("chown failed: %s" % out.stderr.decode("utf-8", "replace"))
        self._run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        last = None
        for _ in range(5):
            self.port = _free_port()
            opts = "-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off" % (self.port, sockets)
            try:
                self._run("pg_ctl", "-D", data, "-l", os.path.join(self.dir, "postgres.log"), "-o", opts,
                          "-w", "-t", "30", "start")
                break
            except RuntimeError as e:
                last = e
        else:
            raise last
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "thingstead")
        self.url = "postgres://postgres@127.0.0.1:%d/thingstead" % self.port
        return self

    def stop(self):
        if self.dir is None:
            return
        try:
            self._run("pg_ctl", "-D", os.path.join(self.dir, "data"), "stop", "-m", "immediate", "-w")
        except RuntimeError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
