//! The bar over the room shown (`room-bar`): its name (a private room's title, with a lock),
//! a badge (`read-only-badge`) when the room is read-only or we are a viewer in it, and for
//! the owner of a private room the invite panel — the link (`invite-link`, the full URL),
//! `copy-invite` (the Clipboard API; where it is missing or refused, the link is selected
//! for Ctrl/Cmd+C) and `rotate-invite` (a new link; the old one stops working) — and the
//! read-only switch (`read-only-toggle`).

use crate::model::Moderation;
use gloo_timers::callback::Timeout;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub room: AttrValue,
    /// How the room is named (`Room::label`).
    pub label: AttrValue,
    pub private: bool,
    pub read_only: bool,
    /// We are a viewer here.
    pub viewer: bool,
    /// We own the room: show its controls.
    pub owner: bool,
    /// The invite link (the owner's), as a full URL.
    pub invite_link: Option<AttrValue>,
    /// (room, what the owner asks).
    pub on_moderate: Callback<(String, Moderation)>,
}

/// What the copy button last did (its `data-state`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Copy {
    Idle,
    Copied,
    /// The clipboard was not available: the link is selected instead.
    Selected,
}

#[function_component(RoomBar)]
pub fn room_bar(p: &Props) -> Html {
    let badge = if p.viewer {
        Some((
            "Viewer",
            "You can read this room and follow its document, not write",
        ))
    } else if p.read_only {
        Some((
            "Read-only",
            "Only the room's owner can write and edit right now",
        ))
    } else {
        None
    };
    html! {
        <header class="room-bar" data-testid="room-bar" aria-label="Room">
            <h1 class="room-title">
                if p.private {
                    <span class="lock" role="img" aria-label="Private room" title="Private room: only people with its invite link get in">{ super::lock_icon() }</span>
                }
                <span class="room-label">{ p.label.clone() }</span>
            </h1>
            if let Some((text, title)) = badge {
                <span class="pill read-only-badge" data-testid="read-only-badge" title={title}>
                    { text }
                </span>
            }
            <span class="spacer" />
            if p.owner {
                <OwnerControls room={p.room.clone()} read_only={p.read_only}
                    invite_link={p.invite_link.clone()} on_moderate={p.on_moderate.clone()} />
            }
        </header>
    }
}

#[derive(Properties, PartialEq)]
struct OwnerProps {
    room: AttrValue,
    read_only: bool,
    invite_link: Option<AttrValue>,
    on_moderate: Callback<(String, Moderation)>,
}

#[function_component(OwnerControls)]
fn owner_controls(p: &OwnerProps) -> Html {
    let copy = use_state(|| Copy::Idle);
    let input = use_node_ref();
    {
        // "Copied" goes back to "Copy" after a moment; a new link starts afresh.
        let copy = copy.clone();
        use_effect_with((*copy, p.invite_link.clone()), move |(state, _)| {
            let timer =
                (*state == Copy::Copied).then(|| Timeout::new(2_000, move || copy.set(Copy::Idle)));
            move || drop(timer)
        });
    }
    let on_copy = {
        let (copy, input, link) = (copy.clone(), input.clone(), p.invite_link.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(link) = link.clone() else {
                return;
            };
            let (copy, input) = (copy.clone(), input.clone());
            write_clipboard(
                &link,
                Callback::from(move |ok: bool| {
                    if ok {
                        copy.set(Copy::Copied);
                    } else {
                        select(&input);
                        copy.set(Copy::Selected);
                    }
                }),
            );
        })
    };
    let on_focus = {
        let input = input.clone();
        Callback::from(move |_: FocusEvent| select(&input))
    };
    let room = p.room.to_string();
    let on_rotate = p
        .on_moderate
        .reform(move |_: MouseEvent| (room.clone(), Moderation::RotateInvite));
    let room = p.room.to_string();
    let on_read_only = p.on_moderate.reform(move |e: Event| {
        let el = e.target_unchecked_into::<HtmlInputElement>();
        let on = el.checked();
        // The switch shows what the room is: it flips when the room says it changed.
        el.set_checked(!on);
        (room.clone(), Moderation::SetReadOnly(on))
    });
    let (copy_label, copy_state) = match *copy {
        Copy::Idle => ("Copy", "idle"),
        Copy::Copied => ("Copied ✓", "copied"),
        Copy::Selected => ("Press Ctrl+C", "selected"),
    };
    html! {
        <div class="owner-controls">
            <div class="invite" role="group" aria-label="Invite link">
                <label for="invite-link" class="invite-label">{ "Invite link" }</label>
                <input id="invite-link" class="invite-link" data-testid="invite-link" type="text"
                    readonly=true ref={input} value={p.invite_link.clone().unwrap_or_default()}
                    placeholder="Loading…" aria-describedby="invite-hint" onfocus={on_focus} />
                <button type="button" class="ghost small" data-testid="copy-invite"
                    data-state={copy_state} disabled={p.invite_link.is_none()} onclick={on_copy}>
                    { copy_label }
                </button>
                <button type="button" class="ghost small" data-testid="rotate-invite"
                    title="Make a new link; the current one stops working (members stay)"
                    onclick={on_rotate}>
                    { "New link" }
                </button>
                <span id="invite-hint" class="visually-hidden">
                    { "Anyone with this link can join the room. A new link makes the old one stop working." }
                </span>
                <span class="visually-hidden" aria-live="polite">
                    { match *copy {
                        Copy::Copied => "Invite link copied",
                        Copy::Selected => "Invite link selected: press Ctrl+C to copy it",
                        Copy::Idle => "",
                    } }
                </span>
            </div>
            <label class="switch" title="Only you can write and edit while the room is read-only">
                <input type="checkbox" role="switch" data-testid="read-only-toggle"
                    checked={p.read_only} onchange={on_read_only} />
                <span class="track" aria-hidden="true"><span class="thumb" /></span>
                { "Read-only" }
            </label>
        </div>
    }
}

fn select(input: &NodeRef) {
    if let Some(el) = input.cast::<HtmlInputElement>() {
        let _ = el.focus();
        el.select();
    }
}

/// Put `text` on the clipboard; `done` says whether that worked (the Clipboard API is
/// missing outside secure contexts, and may be refused).
fn write_clipboard(text: &str, done: Callback<bool>) {
    let clipboard = web_sys::window().and_then(|w| {
        let c = js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("clipboard")).ok()?;
        (!c.is_undefined() && !c.is_null()).then(|| c.unchecked_into::<web_sys::Clipboard>())
    });
    let Some(clipboard) = clipboard else {
        return done.emit(false);
    };
    let ok = {
        let done = done.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |_| done.emit(true))
    };
    let refused = Closure::<dyn FnMut(JsValue)>::new(move |_| done.emit(false));
    let _ = clipboard.write_text(text).then2(&ok, &refused);
    // Called once by the promise; a click's two small closures are not worth tracking.
    ok.forget();
    refused.forget();
}
