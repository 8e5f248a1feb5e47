//! `thingstead login`: checks the credentials against the server and
//! saves them as the profile the other app commands use.

use serde_json::json;
use thingstead::app::App;

use super::client::{ClientArgs, options};
use super::profile::Profile;

/// `login` flags.
#[derive(clap::Args, Debug)]
pub struct LoginArgs {
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Logs in, then saves the profile (mode 0600) and prints who logged in.
pub async fn run(args: LoginArgs) -> anyhow::Result<()> {
    let mut profile = args.client.resolve()?;
    let app = App::start(options(&profile, false)).await?;
    let auth = app.get_auth().await?;
    app.stop();
    let path = args.client.profile_path()?;
    if profile.things.is_none() {
        // New credentials from flags keep the things commands' section.
        profile.things = Profile::load(&path).ok().flatten().and_then(|p| p.things);
    }
    profile.save(&path)?;
    let out = json!({
        "profile": path.display().to_string(),
        "url": profile.url,
        "identity": {
            "type": auth.identity.kind,
            "uuid": auth.identity.uuid,
            "organization": auth.identity.organization,
        },
    });
    println!("{out}");
    Ok(())
}
