//! What the page looks like: pure functions from the [`App`]'s state to [`Html`], one file
//! per part. Every text from the network is rendered as a text node, never as markup.
//! `data-testid` attributes are the contract with the browser tests; keep them stable.

mod doc;
mod home;
mod room;
mod status;
mod tabs;

use crate::app::{App, Msg};
use yew::html::Scope;
use yew::prelude::*;

/// The whole page: top bar with the connection status, room tabs, notice, then either the
/// room shown or the join form.
pub fn page(app: &App, link: &Scope<App>) -> Html {
    let s = &app.state;
    html! {
        <div class="app">
            <header class="topbar">
                <a class="brand" href="/" aria-label="Tandem home">{ "Tandem" }</a>
                <span class="spacer" />
                { status::status(app, link) }
            </header>
            if !s.rooms.is_empty() {
                { tabs::tabs(s, link) }
            }
            { notice(app, link) }
            if s.current_room().is_some() {
                { room::room(app, link) }
            } else {
                { home::home(app, link) }
            }
        </div>
    }
}

fn notice(app: &App, link: &Scope<App>) -> Html {
    let s = &app.state;
    let Some(text) = &s.notice else {
        return html! {};
    };
    let (class, button) = if s.must_reload {
        let reload = link.callback(|_| Msg::Reload);
        (
            "notice notice-update",
            html! { <button type="button" class="primary" onclick={reload}>{ "Reload" }</button> },
        )
    } else {
        let dismiss = link.callback(|_| Msg::DismissNotice);
        (
            "notice",
            html! {
                <button type="button" class="ghost icon" aria-label="Dismiss" onclick={dismiss}>{ "✕" }</button>
            },
        )
    };
    html! {
        <div class={class} role="alert" data-testid="notice">
            <span>{ text.clone() }</span>
            { button }
        </div>
    }
}

/// A stable hue (0..360) per user id.
pub(crate) fn hue_of(id: &str) -> u32 {
    let h = id
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    h % 360
}

/// A stable colour per user id, as a CSS custom property.
fn hue(id: &str) -> String {
    format!("--hue: {}", hue_of(id))
}

/// The first letter of a name, for avatars.
fn initial(name: &str) -> String {
    name.chars()
        .next()
        .into_iter()
        .flat_map(char::to_uppercase)
        .collect()
}

/// "Ada is typing…", "Ada and Bo are typing…", "Several people are typing…".
pub fn typing_line(names: &[&str]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [a, b] => Some(format!("{a} and {b} are typing…")),
        _ => Some("Several people are typing…".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_lines() {
        assert_eq!(typing_line(&[]), None);
        assert_eq!(typing_line(&["Ada"]).unwrap(), "Ada is typing…");
        assert_eq!(
            typing_line(&["Ada", "Bo"]).unwrap(),
            "Ada and Bo are typing…"
        );
        assert_eq!(
            typing_line(&["Ada", "Bo", "Cy"]).unwrap(),
            "Several people are typing…"
        );
        assert_eq!(initial("åda"), "Å");
        assert_eq!(initial(""), "");
        assert_eq!(hue("x"), hue("x"));
    }
}
