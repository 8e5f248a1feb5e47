//! Every live instance, weakly held, so that [`stop_all`] can stop them.

use std::sync::{Arc, Mutex, Weak};

use super::session::Session;

static LIVE: Mutex<Vec<Weak<Session>>> = Mutex::new(Vec::new());

pub(crate) fn register(session: &Arc<Session>) {
    if let Ok(mut live) = LIVE.lock() {
        live.retain(|w| w.upgrade().is_some_and(|s| !s.is_stopped()));
        live.push(Arc::downgrade(session));
    }
}

/// Stops every instance started in this process (exp-sdk's `exp.stop()`).
///
/// ```no_run
/// thingstead::app::stop_all();
/// ```
pub fn stop_all() {
    let live: Vec<Weak<Session>> = match LIVE.lock() {
        Ok(mut live) => std::mem::take(&mut *live),
        Err(_) => return,
    };
    for session in live.iter().filter_map(Weak::upgrade) {
        session.stop();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::app::Options;
    use crate::app::http::Http;

    #[test]
    fn stop_all_stops_every_live_instance() {
        let session = |name: &str| {
            let options = Options::new("http://127.0.0.1:9").user(name, "pw", "acme");
            let login = options.validate().unwrap();
            Arc::new(Session::new(
                Http::new("http://127.0.0.1:9", crate::app::tls::config(&[]).unwrap()).unwrap(),
                login,
                Duration::from_secs(1),
            ))
        };
        let (a, b) = (session("a"), session("b"));
        register(&a);
        register(&b);
        stop_all();
        assert!(a.is_stopped() && b.is_stopped());
    }
}
