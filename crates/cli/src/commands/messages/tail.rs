//! `messages tail`: the newest messages, then every new one as it is
//! stored, by polling for ids above the last one seen.

use std::time::Duration;

use super::api::{Filter, Message, RestClient};
use super::output::Output;

/// Largest page asked for while catching up.
const PAGE: u32 = 1000;
/// Most pages read in one poll; beyond that the oldest new messages are
/// skipped (and said so) rather than reading without end.
const MAX_PAGES_PER_POLL: usize = 20;

/// Shows the last `limit` messages, then follows until Ctrl-C (exit 0).
pub async fn run(
    client: &RestClient,
    filter: &Filter,
    limit: u32,
    interval: Duration,
    output: Output,
) -> anyhow::Result<()> {
    let first = client.page(filter, limit.max(1), None).await?;
    let mut last_seen = first.messages.first().map(|m| m.id).unwrap_or(0);
    let mut shown = first.messages;
    shown.truncate(limit as usize);
    shown.reverse();
    output.print_first(&shown)?;

    // Once following, a failed poll (the server restarting, say) is
    // reported once and retried at the next interval.
    let follow = async {
        let mut failing = false;
        loop {
            tokio::time::sleep(interval).await;
            let new = match newer_than(client, filter, last_seen).await {
                Ok(new) => new,
                Err(e) => {
                    if !failing {
                        eprintln!("warning: {e:#}; retrying every {} ms", interval.as_millis());
                    }
                    failing = true;
                    continue;
                }
            };
            if failing {
                eprintln!("resumed");
                failing = false;
            }
            if let Some(m) = new.last() {
                last_seen = m.id;
            }
            output.print_new(&new)?;
        }
    };
    tokio::select! {
        r = follow => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// Messages with ids above `last`, oldest first.
async fn newer_than(client: &RestClient, filter: &Filter, last: i64) -> anyhow::Result<Vec<Message>> {
    let mut new = Vec::new();
    let mut before = None;
    for _ in 0..MAX_PAGES_PER_POLL {
        let page = client.page(filter, PAGE, before).await?;
        let reached_last = page.messages.iter().any(|m| m.id <= last);
        new.extend(page.messages.into_iter().filter(|m| m.id > last));
        if reached_last || !page.continues {
            new.reverse();
            return Ok(new);
        }
        before = new.last().map(|m| m.id);
    }
    eprintln!(
        "warning: more than {} messages arrived between polls; older ones are not shown",
        PAGE as usize * MAX_PAGES_PER_POLL
    );
    new.reverse();
    Ok(new)
}
