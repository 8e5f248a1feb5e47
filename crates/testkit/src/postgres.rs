//! A throwaway PostgreSQL 15 cluster: `initdb` in a temporary directory,
//! a postmaster on 127.0.0.1 and an ephemeral port (trust auth, fsync on),
//! stopped and removed on drop.
//!
//! When the process runs as root the binaries run as the `postgres` user
//! (initdb refuses root) on a directory chowned to it. A cluster kept in a
//! `static` is never dropped: a small reaper process stops it once the test
//! process is gone, so no postmaster outlives its tests.
//!
//! [`PgCluster::start_with_tls`] starts one that accepts TCP connections
//! only over TLS, with a certificate for 127.0.0.1 and `localhost` signed
//! by a throwaway CA (made with the `openssl` command line).
//!
//! Without the binaries every call fails with a message saying how to
//! install them: PostgreSQL tests fail, they never skip silently.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// Where Debian puts PostgreSQL 15; `THINGSTEAD_PG_BIN` overrides it.
pub const DEFAULT_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";

/// Why a cluster could not be made or driven.
#[derive(Debug)]
pub struct PgError(pub String);

impl std::fmt::Display for PgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PgError {}

/// A running throwaway cluster.
pub struct PgCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
    databases: AtomicU32,
    tls: bool,
}

impl std::fmt::Debug for PgCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgCluster").field("port", &self.port).finish()
    }
}

fn is_root() -> bool {
    // The effective uid, without a libc dependency: /proc/self/status "Uid: r e s f".
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

fn free_port() -> Result<u16, PgError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| PgError(format!("no free port: {e}")))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| PgError(format!("no free port: {e}")))
}

impl PgCluster {
    /// Makes and starts a cluster. Fails, saying how to install PostgreSQL 15,
    /// when its binaries are absent.
    pub fn start() -> Result<Self, PgError> {
        Self::start_inner(false)
    }

    /// Makes and starts a cluster that takes TCP connections only over TLS
    /// (`hostssl` in pg_hba.conf; a plain connection is refused). Its
    /// certificate names 127.0.0.1 and `localhost` and is signed by the CA in
    /// [`PgCluster::ca_file`].
    pub fn start_with_tls() -> Result<Self, PgError> {
        Self::start_inner(true)
    }

    /// The PEM certificate of the CA that signed a TLS cluster's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.tls_dir().join("ca.crt")
    }

    fn tls_dir(&self) -> PathBuf {
        self.dir.path().join("tls")
    }

    fn start_inner(tls: bool) -> Result<Self, PgError> {
        let bin = std::env::var_os("THINGSTEAD_PG_BIN").map_or_else(|| PathBuf::from(DEFAULT_BIN_DIR), PathBuf::from);
        if !bin.join("initdb").is_file() {
            return Err(PgError(format!(
                "PostgreSQL binaries not found in {} (install them: `apt-get install -y postgresql-15`, \
                 or set THINGSTEAD_PG_BIN to a directory holding initdb, pg_ctl and createdb)",
                bin.display()
            )));
        }
        let dir = tempfile::Builder::new()
            .prefix("thingstead-pg-")
            .tempdir()
            .map_err(|e| PgError(format!("temp dir: {e}")))?;
        let as_postgres = is_root();
        let mut cluster = Self {
            bin,
            dir,
            port: 0,
            as_postgres,
            databases: AtomicU32::new(0),
            tls,
        };
        std::fs::create_dir(cluster.socket_dir()).map_err(|e| PgError(format!("socket dir: {e}")))?;
        if as_postgres {
            cluster.run(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(cluster.dir.path()),
                "chown",
            )?;
        }
        let mut initdb = cluster.command("initdb");
        initdb.arg("-D").arg(cluster.data_dir()).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        cluster.run(&mut initdb, "initdb")?;
        if tls {
            cluster.make_tls()?;
        }
        let mut last = None;
        for _ in 0..5 {
            cluster.port = free_port()?;
            match cluster.start_again() {
                Ok(()) => {
                    cluster.spawn_reaper();
                    return Ok(cluster);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| PgError("postgres did not start".into())))
    }

    /// The CA and server certificate, and a pg_hba.conf that refuses plain TCP.
    fn make_tls(&self) -> Result<(), PgError> {
        let dir = self.tls_dir();
        std::fs::create_dir(&dir).map_err(|e| PgError(format!("tls dir: {e}")))?;
        make_test_ca(&dir, "ca", "Thingstead test CA")?;
        let ext = dir.join("server.ext");
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        )
        .map_err(|e| PgError(format!("tls ext file: {e}")))?;
        openssl(
            &dir,
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        )?;
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        )?;
        std::fs::write(
            self.data_dir().join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .map_err(|e| PgError(format!("pg_hba.conf: {e}")))?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join("server.key"), std::fs::Permissions::from_mode(0o600))
                .map_err(|e| PgError(format!("server key mode: {e}")))?;
        }
        if self.as_postgres {
            self.run(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(self.dir.path()),
                "chown",
            )?;
        }
        Ok(())
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.path().join("sockets")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    /// The port the cluster listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A `postgres://` URL for database `db` (user `postgres`, no password).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a fresh database with a unique name and returns its URL.
    pub fn create_database(&self) -> Result<String, PgError> {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("t{}_{n}", std::process::id());
        let mut createdb = self.command("createdb");
        createdb
            .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
            .arg(self.port.to_string())
            .arg(&name);
        self.run(&mut createdb, "createdb")?;
        Ok(self.url(&name))
    }

    /// Stops the postmaster (fast shutdown), keeping the data: for tests of
    /// what a client does while the database is away.
    pub fn stop(&self) -> Result<(), PgError> {
        let mut stop = self.command("pg_ctl");
        stop.arg("-D").arg(self.data_dir()).args(["stop", "-m", "fast", "-w"]);
        self.run(&mut stop, "pg_ctl stop")
    }

    /// Starts the postmaster again on the same port and data.
    pub fn start_again(&self) -> Result<(), PgError> {
        let mut opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=on -c max_connections=300",
            self.port,
            self.socket_dir().display()
        );
        if self.tls {
            opts.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                self.tls_dir().join("server.crt").display(),
                self.tls_dir().join("server.key").display()
            ));
        }
        let mut start = self.command("pg_ctl");
        start
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_file())
            .args(["-o", &opts, "-w", "-t", "30", "start"]);
        self.run(&mut start, "pg_ctl start").map_err(|e| {
            let log = std::fs::read_to_string(self.log_file()).unwrap_or_default();
            let tail: String = log.lines().rev().take(10).collect::<Vec<_>>().join("\n");
            PgError(format!("{e}\nserver log (last lines, newest first):\n{tail}"))
        })
    }

    /// A command for binary `name` of the cluster, run as `postgres` when we are root.
    fn command(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        // Inherited pipes would keep a test harness waiting for the postmaster.
        c.stdin(Stdio::null()).current_dir(self.dir.path());
        c
    }

    fn run(&self, c: &mut Command, what: &str) -> Result<(), PgError> {
        let out = c
            .stdin(Stdio::null())
            .output()
            .map_err(|e| PgError(format!("{what}: {e}")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(PgError(format!(
                "{what} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )))
        }
    }

    /// Stops the cluster and removes its directory once this process is gone
    /// (for clusters in statics, which are never dropped).
    fn spawn_reaper(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = format!(
            "{}{} -D {} stop -m immediate",
            if self.as_postgres {
                "runuser -u postgres -- "
            } else {
                ""
            },
            pg_ctl.display(),
            self.data_dir().display()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             if [ -d {data} ]; then {stop}; rm -rf {dir}; fi",
            pid = std::process::id(),
            data = self.data_dir().display(),
            dir = self.dir.path().display(),
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    /// The cluster's directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Makes a self-signed CA in `dir`: `NAME.crt` and `NAME.key` (P-256, two
/// days), with `openssl` from the command line. Returns the certificate.
pub fn make_test_ca(dir: &Path, name: &str, common_name: &str) -> Result<PathBuf, PgError> {
    let (crt, key) = (format!("{name}.crt"), format!("{name}.key"));
    let subject = format!("/CN={common_name}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &crt,
            "-days",
            "2",
            "-subj",
            &subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    )?;
    Ok(dir.join(crt))
}

/// Runs `openssl ARGS` in `dir`.
fn openssl(dir: &Path, args: &[&str]) -> Result<(), PgError> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| PgError(format!("openssl (needed for a TLS test cluster): {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(PgError(format!(
            "openssl {} failed: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let mut stop = self.command("pg_ctl");
        stop.arg("-D")
            .arg(self.data_dir())
            .args(["stop", "-m", "immediate", "-w"]);
        let _ = stop.stdout(Stdio::null()).stderr(Stdio::null()).status();
        // The temp dir goes with `self.dir`; the reaper then finds nothing to do.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_starts_makes_databases_and_goes_away_on_drop() {
        let cluster = PgCluster::start().expect("PostgreSQL 15 must be installed for these tests");
        let url = cluster.create_database().unwrap();
        assert!(url.starts_with("postgres://postgres@127.0.0.1:"));
        let port = cluster.port();
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        let dir = cluster.path().to_owned();
        drop(cluster);
        assert!(!dir.exists());
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    }
}
