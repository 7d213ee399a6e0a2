//! The room tabs (`room-tab`, `data-room` its id): one per joined room with its name (a
//! private room's title with a lock, and `data-private="true"`), its unread count
//! (`unread`), a button to leave it (`leave-room`), and "+" to join another (`add-room`).

use std::rc::Rc;
use yew::prelude::*;

/// What a tab shows of its room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tab {
    pub room: String,
    /// How the room is named (`Room::label`).
    pub label: String,
    pub private: bool,
    pub unread: u32,
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub tabs: Rc<Vec<Tab>>,
    /// The room shown; `None` while the join form is.
    pub current: Option<String>,
    pub on_switch: Callback<String>,
    pub on_leave: Callback<String>,
    pub on_add: Callback<()>,
}

#[function_component(Tabs)]
pub fn tabs(p: &Props) -> Html {
    let adding = p.current.is_none();
    let add = p.on_add.reform(|_: MouseEvent| ());
    let tab = |t: &Tab| {
        let active = p.current.as_deref() == Some(t.room.as_str());
        let room = t.room.clone();
        let switch = p.on_switch.reform(move |_: MouseEvent| room.clone());
        let room = t.room.clone();
        let leave = p.on_leave.reform(move |_: MouseEvent| room.clone());
        let unread = (t.unread > 0).then(|| {
            let n = if t.unread > 99 {
                "99+".to_owned()
            } else {
                t.unread.to_string()
            };
            html! {
                <span class="badge" data-testid="unread" data-count={t.unread.to_string()}
                    aria-label={format!("{} unread", t.unread)}>{ n }</span>
            }
        });
        let title = if t.private {
            format!("{} (private room)", t.label)
        } else {
            t.label.clone()
        };
        html! {
            <li class={classes!("tab-item", active.then_some("active"))} key={t.room.clone()}>
                <button type="button" class="tab" data-testid="room-tab" data-room={t.room.clone()}
                    data-private={t.private.then_some("true")}
                    data-active={active.to_string()} aria-current={active.then_some("page")}
                    title={title} onclick={switch}>
                    if t.private {
                        <span class="lock" role="img" aria-label="Private:">{ super::lock_icon() }</span>
                    }
                    <span class="tab-name">{ t.label.clone() }</span>
                    { for unread }
                </button>
                <button type="button" class="tab-close" data-testid="leave-room"
                    aria-label={format!("Leave {}", t.label)} title={format!("Leave {}", t.label)}
                    onclick={leave}>
                    { "×" }
                </button>
            </li>
        }
    };
    html! {
        <nav class="tabs" aria-label="Rooms">
            <ul>
                { for p.tabs.iter().map(tab) }
                <li>
                    <button type="button" class={classes!("tab-add", adding.then_some("active"))}
                        data-testid="add-room" aria-label="Join another room"
                        title="Join another room" aria-pressed={adding.to_string()} onclick={add}>
                        { "+" }
                    </button>
                </li>
            </ul>
        </nav>
    }
}
