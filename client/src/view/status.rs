//! The connection indicator (`connection-status`): connecting, live, reconnecting with a
//! live countdown and a "retry now" button, or offline.

use crate::app::{App, Msg};
use crate::state::Conn;
use yew::html::Scope;
use yew::prelude::*;

pub fn status(app: &App, link: &Scope<App>) -> Html {
    let s = &app.state;
    let conn = s.status();
    let countdown = app.retry_in_secs();
    let label = match conn {
        Conn::Connecting if countdown.is_some() => "Can't reach the server",
        Conn::Connecting => "Connecting…",
        Conn::Live => "Live",
        Conn::Reconnecting if countdown.is_some() => "Reconnecting",
        Conn::Reconnecting => "Reconnecting…",
        Conn::Offline if s.must_reload => "Update needed",
        Conn::Offline => "Offline",
    };
    // The countdown changes every second: shown, but not announced each time.
    let when = match (conn, countdown) {
        (Conn::Live, _) | (_, None) => None,
        (_, Some(0)) => Some("now…".to_owned()),
        (Conn::Reconnecting, Some(n)) => Some(format!("in {n} s")),
        (_, Some(n)) => Some(format!("· retrying in {n} s")),
    };
    let retry = countdown.is_some() && !s.must_reload && conn != Conn::Live;
    let onclick = link.callback(|_| Msg::RetryNow);
    html! {
        <div class="status-area">
            <span class="status" data-testid="connection-status" data-state={conn.as_str()}
                role="status" aria-live="polite">
                <span class="dot" aria-hidden="true" />
                <span class="label">{ label }</span>
                if let Some(when) = when {
                    <span class="countdown" data-testid="retry-countdown" aria-hidden="true">
                        { when }
                    </span>
                }
            </span>
            if retry {
                <button type="button" class="ghost small" data-testid="retry-now" {onclick}>
                    { "Retry now" }
                </button>
            }
        </div>
    }
}
