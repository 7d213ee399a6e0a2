//! The join form (`name-input`, `room-input`, `join-button`): the first page, and the page
//! behind "+" for joining another room. Enter in either field submits.

use crate::app::{App, Msg};
use tandem_shared::limits::{MAX_NAME_LEN, MAX_ROOM_LEN};
use web_sys::HtmlInputElement;
use yew::html::Scope;
use yew::prelude::*;

pub fn home(app: &App, link: &Scope<App>) -> Html {
    let s = &app.state;
    let onsubmit = link.callback(|e: SubmitEvent| {
        e.prevent_default();
        Msg::Join
    });
    let on_name = link.callback(|e: InputEvent| {
        Msg::NameInput(e.target_unchecked_into::<HtmlInputElement>().value())
    });
    let on_room = link.callback(|e: InputEvent| {
        Msg::RoomInput(e.target_unchecked_into::<HtmlInputElement>().value())
    });
    let (title, lead) = if s.rooms.is_empty() {
        (
            "Join a room".to_owned(),
            "Chat in real time with everyone in the same room. Pick a name and a room — a new name creates the room.",
        )
    } else {
        (
            "Join another room".to_owned(),
            "Your rooms stay open in the tabs above.",
        )
    };
    let title = match app.room_input.trim() {
        room if !room.is_empty() && s.rooms.is_empty() && app.name_input.is_empty() => {
            format!("Join #{room}")
        }
        _ => title,
    };
    html! {
        <main class="home">
            <form class="card join" {onsubmit} novalidate=true aria-labelledby="join-title">
                <h1 id="join-title">{ title }</h1>
                <p class="lead">{ lead }</p>
                <label for="name-input">{ "Your name" }</label>
                <input id="name-input" data-testid="name-input" type="text" ref={app.name_ref.clone()}
                    autocomplete="nickname" maxlength={MAX_NAME_LEN.to_string()}
                    placeholder="Ada" value={app.name_input.clone()} oninput={on_name} />
                <label for="room-input">{ "Room" }</label>
                <input id="room-input" data-testid="room-input" type="text" ref={app.room_ref.clone()}
                    autocomplete="off" autocapitalize="off" spellcheck="false"
                    maxlength={MAX_ROOM_LEN.to_string()} placeholder="lobby"
                    aria-describedby="room-hint"
                    value={app.room_input.clone()} oninput={on_room} />
                <p class="hint" id="room-hint">{ "Letters, digits, “-”, “_” and “.”. Share the room’s link to invite people." }</p>
                if let Some(err) = &app.form_error {
                    <p class="form-error" role="alert">{ err.clone() }</p>
                }
                <button type="submit" class="primary" data-testid="join-button">{ "Join" }</button>
            </form>
        </main>
    }
}
