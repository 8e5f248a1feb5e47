//! Where a new user's password comes from: `--password` (visible to other
//! users of the machine in the process list), `--password-stdin` (one line),
//! or a prompt on the terminal.

use std::io::{BufRead, IsTerminal, Read};

use anyhow::{Context, bail};

/// Longest password line read from stdin, in bytes.
const MAX_LINE: u64 = 4096;

/// The password flags of `admin user create`.
#[derive(clap::Args, Debug)]
pub struct PasswordArgs {
    /// The password. Other users of this machine can see command lines (ps,
    /// /proc) and shells keep them in history: prefer --password-stdin or the prompt.
    #[arg(long, env = "THINGSTEAD_USER_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,
}

impl PasswordArgs {
    /// The password: from the flag, from stdin, or asked on the terminal
    /// (twice) when stdin is one and neither flag is given.
    pub async fn resolve(self, username: &str) -> anyhow::Result<String> {
        let password = match (self.password, self.password_stdin) {
            (_, true) => tokio::task::spawn_blocking(read_stdin_line).await??,
            (Some(p), false) => p,
            (None, false) if std::io::stdin().is_terminal() => {
                let username = username.to_owned();
                tokio::task::spawn_blocking(move || prompt(&username)).await??
            }
            (None, false) => {
                bail!("no password: pipe it with --password-stdin, or run on a terminal to be asked for it")
            }
        };
        if password.is_empty() {
            bail!("the password is empty");
        }
        Ok(password)
    }
}

/// One line of stdin without its line ending (at most 4 KiB).
pub(crate) fn read_stdin_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_LINE + 1)
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    if line.len() as u64 > MAX_LINE {
        bail!("the password line on stdin is longer than {MAX_LINE} bytes");
    }
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned())
}

/// Asks twice on the terminal, without echo.
fn prompt(username: &str) -> anyhow::Result<String> {
    let first = rpassword::prompt_password(format!("Password for {username}: ")).context("cannot read the password")?;
    let again = rpassword::prompt_password("Repeat it: ").context("cannot read the password")?;
    if first != again {
        bail!("the passwords differ");
    }
    Ok(first)
}
