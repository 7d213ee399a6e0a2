//! The chat pane of the room shown: [`list`] (the messages, their scroll, the unseen count
//! and scrollback), the typing line (`typing`) and [`composer`] (the message box). Keyed by
//! room, so switching rooms starts a fresh pane at the end of the list.
//!
//! The list's props do not include the draft: typing in the composer re-renders the
//! composer, never the list (`data-renders` on the list counts its renders).

pub mod composer;
pub mod list;

use crate::model::{Messages, Pending};
use composer::Composer;
use list::MessageList;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub room: AttrValue,
    /// How the room is named (`#lobby`, or a private room's title).
    pub label: AttrValue,
    /// Why we may not write here; `None` when we may.
    pub locked: Option<AttrValue>,
    pub messages: Messages,
    pub pending: Rc<Vec<Pending>>,
    pub me: Option<AttrValue>,
    /// Joined on the current connection.
    pub joined: bool,
    /// The first join has not been answered yet.
    pub loading: bool,
    pub gap: bool,
    pub has_older: bool,
    pub loading_older: bool,
    /// "Ada is typing…", or nothing.
    pub typing: Option<AttrValue>,
    pub draft: AttrValue,
    /// (room, text) as the person types.
    pub on_draft: Callback<(String, String)>,
    /// (room, text), validated.
    pub on_send: Callback<(String, String)>,
    /// The person scrolled to the top of `room`'s messages.
    pub on_load_older: Callback<String>,
}

#[function_component(ChatPane)]
pub fn chat_pane(p: &Props) -> Html {
    html! {
        <section class="chat" aria-label={format!("Messages in {}", p.label)}>
            <MessageList room={p.room.clone()} label={p.label.clone()} messages={p.messages.clone()}
                pending={p.pending.clone()} me={p.me.clone()} joined={p.joined}
                loading={p.loading} gap={p.gap} has_older={p.has_older}
                loading_older={p.loading_older} on_load_older={p.on_load_older.clone()} />
            <div class="typing" data-testid="typing" aria-live="polite">
                { p.typing.clone().unwrap_or_default() }
            </div>
            <Composer room={p.room.clone()} label={p.label.clone()} locked={p.locked.clone()}
                draft={p.draft.clone()}
                on_draft={p.on_draft.clone()} on_send={p.on_send.clone()} />
        </section>
    }
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
    }
}
