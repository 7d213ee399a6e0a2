//! The connection indicator (`connection-status`): connecting, live, reconnecting with a
//! live countdown and a "retry now" button (`retry-now`), or offline.

use crate::model::Conn;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// What the indicator shows (`State::status`).
    pub conn: Conn,
    /// Seconds until the next attempt, while waiting for it.
    pub retry_in: Option<u64>,
    pub must_reload: bool,
    pub on_retry: Callback<()>,
}

#[function_component(ConnectionStatus)]
pub fn connection_status(p: &Props) -> Html {
    let label = match p.conn {
        Conn::Connecting if p.retry_in.is_some() => "Can't reach the server",
        Conn::Connecting => "Connecting…",
        Conn::Live => "Live",
        Conn::Reconnecting if p.retry_in.is_some() => "Reconnecting",
        Conn::Reconnecting => "Reconnecting…",
        Conn::Offline if p.must_reload => "Update needed",
        Conn::Offline => "Offline",
    };
    // The countdown changes every second: shown, but not announced each time.
    let when = match (p.conn, p.retry_in) {
        (Conn::Live, _) | (_, None) => None,
        (_, Some(0)) => Some("now…".to_owned()),
        (Conn::Reconnecting, Some(n)) => Some(format!("in {n} s")),
        (_, Some(n)) => Some(format!("· retrying in {n} s")),
    };
    let retry = p.retry_in.is_some() && !p.must_reload && p.conn != Conn::Live;
    let onclick = p.on_retry.reform(|_: MouseEvent| ());
    html! {
        <div class="status-area">
            <span class="status" data-testid="connection-status" data-state={p.conn.as_str()}
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
