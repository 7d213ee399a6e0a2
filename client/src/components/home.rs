//! The join form (`name-input`, `room-input`, `join-button`): the first page, and the page
//! behind "+" for joining another room. It owns what is typed and its validation; a valid
//! name and room go up through `on_join`. Enter in either field submits. Below it, a small
//! second form creates a private room (`private-title`, `create-private`): the same name,
//! and the room's title; it goes up through `on_create`.

use tandem_shared::ids::{display_name, RoomName};
use tandem_shared::limits::{MAX_NAME_LEN, MAX_ROOM_LEN};
use web_sys::{HtmlElement, HtmlInputElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// The name remembered in this browser ("" if none).
    pub name: AttrValue,
    /// A room to fill in (from a `/r/<room>` link opened before a name was known).
    pub room: AttrValue,
    /// No room is open yet (the first page).
    pub first: bool,
    /// (room, name), both valid.
    pub on_join: Callback<(String, String)>,
    /// (title, name) of a private room to create, both valid.
    pub on_create: Callback<(String, String)>,
    /// A private room is being created (the button waits).
    pub creating: bool,
}

#[function_component(Home)]
pub fn home(p: &Props) -> Html {
    let name = use_state(|| p.name.to_string());
    let room = use_state(|| p.room.to_string());
    let private_title = use_state(String::new);
    let error = use_state(|| None::<String>);
    let create_error = use_state(|| None::<String>);
    let name_ref = use_node_ref();
    let room_ref = use_node_ref();
    let title_ref = use_node_ref();
    {
        // A new link to fill in while the form is shown.
        let room = room.clone();
        use_effect_with(p.room.clone(), move |r| {
            if !r.is_empty() {
                room.set(r.to_string());
            }
        });
    }
    {
        // The field to type in first gets the focus.
        let (name_ref, room_ref, empty) = (name_ref.clone(), room_ref.clone(), name.is_empty());
        use_effect_with((), move |_| {
            focus(if empty { &name_ref } else { &room_ref })
        });
    }
    let onsubmit = {
        let (name, room, error) = (name.clone(), room.clone(), error.clone());
        let (name_ref, room_ref) = (name_ref.clone(), room_ref.clone());
        let on_join = p.on_join.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let valid_room = match RoomName::new(room.trim()) {
                Ok(r) => r,
                Err(err) => {
                    error.set(Some(err.message));
                    return focus(&room_ref);
                }
            };
            let valid_name = match display_name(&name) {
                Ok(n) => n,
                Err(err) => {
                    error.set(Some(err.message));
                    return focus(&name_ref);
                }
            };
            error.set(None);
            room.set(String::new());
            name.set(valid_name.clone());
            on_join.emit((valid_room.as_str().to_owned(), valid_name));
        })
    };
    let on_create = {
        let (name, title, error) = (name.clone(), private_title.clone(), create_error.clone());
        let (name_ref, title_ref) = (name_ref.clone(), title_ref.clone());
        let on_create = p.on_create.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let valid_name = match display_name(&name) {
                Ok(n) => n,
                Err(err) => {
                    error.set(Some(err.message));
                    return focus(&name_ref);
                }
            };
            let valid_title = match display_name(title.trim()) {
                Ok(t) => t,
                Err(err) => {
                    let message = if title.trim().is_empty() {
                        "Give the private room a title.".to_owned()
                    } else {
                        err.message.replace("name", "title")
                    };
                    error.set(Some(message));
                    return focus(&title_ref);
                }
            };
            error.set(None);
            title.set(String::new());
            name.set(valid_name.clone());
            on_create.emit((valid_title, valid_name));
        })
    };
    let on_name = {
        let (name, error, create_error) = (name.clone(), error.clone(), create_error.clone());
        Callback::from(move |e: InputEvent| {
            name.set(e.target_unchecked_into::<HtmlInputElement>().value());
            error.set(None);
            create_error.set(None);
        })
    };
    let on_title = {
        let (title, error) = (private_title.clone(), create_error.clone());
        Callback::from(move |e: InputEvent| {
            title.set(e.target_unchecked_into::<HtmlInputElement>().value());
            error.set(None);
        })
    };
    let on_room = {
        let (room, error) = (room.clone(), error.clone());
        Callback::from(move |e: InputEvent| {
            room.set(e.target_unchecked_into::<HtmlInputElement>().value());
            error.set(None);
        })
    };
    let (title, lead) = if p.first {
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
    let title = match room.trim() {
        r if !r.is_empty() && p.first && p.name.is_empty() => format!("Join #{r}"),
        _ => title,
    };
    html! {
        <main class="home">
            <div class="card join">
            <form class="join-form" {onsubmit} novalidate=true aria-labelledby="join-title">
                <h1 id="join-title">{ title }</h1>
                <p class="lead">{ lead }</p>
                <label for="name-input">{ "Your name" }</label>
                <input id="name-input" data-testid="name-input" type="text" ref={name_ref}
                    autocomplete="nickname" maxlength={MAX_NAME_LEN.to_string()}
                    placeholder="Ada" value={(*name).clone()} oninput={on_name} />
                <label for="room-input">{ "Room" }</label>
                <input id="room-input" data-testid="room-input" type="text" ref={room_ref}
                    autocomplete="off" autocapitalize="off" spellcheck="false"
                    maxlength={MAX_ROOM_LEN.to_string()} placeholder="lobby"
                    aria-describedby="room-hint"
                    value={(*room).clone()} oninput={on_room} />
                <p class="hint" id="room-hint">{ "Letters, digits, “-”, “_” and “.”. Share the room’s link to invite people." }</p>
                if let Some(err) = &*error {
                    <p class="form-error" role="alert">{ err.clone() }</p>
                }
                <button type="submit" class="primary" data-testid="join-button">{ "Join" }</button>
            </form>
            <form class="create-form" onsubmit={on_create} novalidate=true
                aria-labelledby="create-title">
                <h2 id="create-title">{ super::lock_icon() }{ "Or start a private room" }</h2>
                <p class="hint">{ "Only people you send its invite link to can come in." }</p>
                <label for="private-title" class="visually-hidden">{ "Private room title" }</label>
                <div class="field-row">
                    <input id="private-title" data-testid="private-title" type="text"
                        ref={title_ref} autocomplete="off" maxlength={MAX_NAME_LEN.to_string()}
                        placeholder="Title, e.g. Team plans" value={(*private_title).clone()}
                        oninput={on_title} />
                    <button type="submit" class="ghost" data-testid="create-private"
                        disabled={p.creating} aria-busy={p.creating.to_string()}>
                        { if p.creating { "Creating…" } else { "Create" } }
                    </button>
                </div>
                if let Some(err) = &*create_error {
                    <p class="form-error" role="alert">{ err.clone() }</p>
                }
            </form>
            </div>
        </main>
    }
}

fn focus(node: &NodeRef) {
    if let Some(el) = node.cast::<HtmlElement>() {
        let _ = el.focus();
    }
}
