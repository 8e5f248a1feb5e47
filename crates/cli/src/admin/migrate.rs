//! `thingstead admin migrate --to postgres://...`: copies the embedded store
//! of `--data-dir` into an empty PostgreSQL database, all or nothing, and
//! says which master key file the PostgreSQL nodes must read.
//!
//! It holds the data dir's serve lock while it runs: a server running on
//! the store makes it refuse, and no server can start on it meanwhile. The
//! copy itself is `thingstead_core::store::migrate`.

use serde_json::{Value, json};
use thingstead_server::FlagOverrides;

use crate::commands::GlobalArgs;

/// `admin migrate` arguments.
#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// The empty PostgreSQL database to fill:
    /// `postgres://USER:PASSWORD@HOST:PORT/DB` (`?sslmode=...` for TLS;
    /// `store.ca_file` names a private CA).
    #[arg(long, value_name = "URL")]
    pub to: String,
}

#[cfg(not(feature = "postgres"))]
pub async fn run(_global: &GlobalArgs, _args: MigrateArgs) -> anyhow::Result<Value> {
    anyhow::bail!("this thingstead was built without PostgreSQL support (cargo feature `postgres`)")
}

#[cfg(feature = "postgres")]
pub async fn run(global: &GlobalArgs, args: MigrateArgs) -> anyhow::Result<Value> {
    use std::time::{Duration, Instant};

    use thingstead_core::store::migrate::{Progress, sqlite_to_postgres};
    use thingstead_core::store::postgres::PgTls;
    use thingstead_server::data_dir::{self, DataDirError, DataDirLock};
    use thingstead_server::settings::StoreBackend;

    let settings = global.settings(FlagOverrides::default())?;
    crate::logging::init(settings.log_format, "warn");
    let dir = data_dir::absolute(&settings.data_dir);
    let target = thingstead_server::redact::url(&args.to);
    if settings.store.backend != StoreBackend::Sqlite {
        anyhow::bail!(
            "admin migrate copies the embedded store of --data-dir, but this configuration has store.backend = \
             \"postgres\""
        );
    }
    if !data_dir::has_store(&settings.data_dir) {
        return Err(DataDirError::NoStore(dir).into());
    }
    let _lock = DataDirLock::acquire(&settings.data_dir).map_err(|e| match e {
        DataDirError::Locked { dir, pid } => anyhow::anyhow!(
            "a thingstead server (PID {pid}) is serving {}; stop it first, so nothing is written during the copy",
            dir.display()
        ),
        other => other.into(),
    })?;
    let key = data_dir::master_key(&settings)?;
    let key_file = settings
        .secrets
        .master_key_file
        .clone()
        .unwrap_or_else(|| settings.data_dir.join(thingstead_core::master_key::MASTER_KEY_FILE));
    let key_file = data_dir::absolute(&key_file);
    let tls = PgTls {
        ca_file: settings.store.ca_file.clone(),
    };

    eprintln!("copying the store in {} to {target}", dir.display());
    let mut last_line = Instant::now();
    let mut report = |p: Progress<'_>| {
        // A line when a table starts and ends, and at most one a second between.
        if p.copied == 0 || p.copied == p.total || last_line.elapsed() >= Duration::from_secs(1) {
            eprintln!("  {}: {}/{} rows", p.table, p.copied, p.total);
            last_line = Instant::now();
        }
    };
    let counts = sqlite_to_postgres(&settings.data_dir, key, &args.to, &tls, &mut report)
        .await
        .map_err(|e| anyhow::anyhow!("migrate to {target}: {e}"))?;
    eprintln!(
        "done; every node on {target} must read the same master key: copy {} to each and set \
         secrets.master_key_file to it",
        key_file.display()
    );
    let tables: serde_json::Map<String, Value> = counts
        .iter()
        .map(|c| (c.table.to_owned(), json!({ "source": c.source, "target": c.target })))
        .collect();
    Ok(json!({
        "from": dir,
        "to": target,
        "tables": tables,
        "verified": counts.iter().all(|c| c.source == c.target),
        "master_key_file": key_file,
    }))
}
