//! The room tabs (`room-tab`): one per joined room with its unread count, a button to leave
//! it, and "+" to join another.

use crate::app::{App, Msg};
use crate::state::{Room, State};
use yew::html::Scope;
use yew::prelude::*;

pub fn tabs(s: &State, link: &Scope<App>) -> Html {
    let adding = s.current.is_none();
    let add = link.callback(|_| Msg::ShowJoinForm);
    html! {
        <nav class="tabs" aria-label="Rooms">
            <ul>
                { for s.rooms.iter().map(|r| tab(r, s.current.as_deref() == Some(r.name.as_str()), link)) }
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

fn tab(r: &Room, active: bool, link: &Scope<App>) -> Html {
    let name = r.name.clone();
    let switch = link.callback(move |_| Msg::Switch(name.clone()));
    let name = r.name.clone();
    let leave = link.callback(move |_| Msg::Leave(name.clone()));
    let unread = (r.unread > 0).then(|| {
        let n = if r.unread > 99 {
            "99+".to_owned()
        } else {
            r.unread.to_string()
        };
        html! {
            <span class="badge" data-testid="unread" data-count={r.unread.to_string()}
                aria-label={format!("{} unread", r.unread)}>{ n }</span>
        }
    });
    html! {
        <li class={classes!("tab-item", active.then_some("active"))}>
            <button type="button" class="tab" data-testid="room-tab" data-room={r.name.clone()}
                data-active={active.to_string()} aria-current={active.then_some("page")}
                title={format!("#{}", r.name)} onclick={switch}>
                <span class="tab-name">{ format!("#{}", r.name) }</span>
                { for unread }
            </button>
            <button type="button" class="tab-close" data-testid="leave-room"
                aria-label={format!("Leave #{}", r.name)} title={format!("Leave #{}", r.name)}
                onclick={leave}>
                { "×" }
            </button>
        </li>
    }
}
