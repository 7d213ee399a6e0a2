//! The message box (`composer`, `send-button`): Enter sends, Shift+Enter is a new line.
//! Shows why a text cannot be sent (too long) before it goes anywhere. Where we may not
//! write (a viewer, a read-only room) it is disabled, with the reason in one line
//! (`composer-locked`).

use tandem_shared::ids::chat_text;
use tandem_shared::limits::MAX_TEXT_LEN;
use web_sys::{HtmlElement, HtmlTextAreaElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub room: AttrValue,
    /// How the room is named (`#lobby`, or a private room's title).
    pub label: AttrValue,
    /// Why we may not write here; `None` when we may.
    pub locked: Option<AttrValue>,
    pub draft: AttrValue,
    pub on_draft: Callback<(String, String)>,
    pub on_send: Callback<(String, String)>,
}

#[function_component(Composer)]
pub fn composer(p: &Props) -> Html {
    let error = use_state(|| None::<String>);
    let node = use_node_ref();
    {
        // A new pane (a room entered) starts with the focus in its message box.
        let node = node.clone();
        use_effect_with(p.room.clone(), move |_| {
            if let Some(el) = node.cast::<HtmlElement>() {
                let _ = el.focus();
            }
        });
    }
    let send = {
        let (room, error, on_send, node) = (
            p.room.clone(),
            error.clone(),
            p.on_send.clone(),
            node.clone(),
        );
        let locked = p.locked.is_some();
        move || {
            if locked {
                return;
            }
            let Some(el) = node.cast::<HtmlTextAreaElement>() else {
                return;
            };
            let text = el.value();
            if text.trim().is_empty() {
                return;
            }
            match chat_text(&text) {
                Ok(()) => {
                    error.set(None);
                    on_send.emit((room.to_string(), text));
                }
                Err(err) => error.set(Some(err.message)),
            }
        }
    };
    let onsubmit = {
        let send = send.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            send();
        })
    };
    let onkeydown = Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" && !e.shift_key() && !e.is_composing() {
            e.prevent_default();
            send();
        }
    });
    let oninput = {
        let (room, error, on_draft) = (p.room.clone(), error.clone(), p.on_draft.clone());
        Callback::from(move |e: InputEvent| {
            if error.is_some() {
                error.set(None);
            }
            let text = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            on_draft.emit((room.to_string(), text));
        })
    };
    let locked = p.locked.is_some();
    let placeholder = if locked {
        "Writing is off for you here".to_owned()
    } else {
        format!("Message {}", p.label)
    };
    html! {
        <>
            <form class={classes!("composer", locked.then_some("locked"))} {onsubmit}>
                <textarea data-testid="composer" ref={node} rows="1"
                    aria-label={format!("Message {}", p.label)} {placeholder}
                    aria-describedby={locked.then_some("composer-locked")}
                    maxlength={MAX_TEXT_LEN.to_string()} disabled={locked}
                    value={p.draft.clone()} {oninput} {onkeydown} />
                <button type="submit" class="primary" data-testid="send-button"
                    disabled={locked}>{ "Send" }</button>
            </form>
            if let Some(err) = &*error {
                <p class="form-error composer-error" role="alert">{ err.clone() }</p>
            }
            if let Some(why) = &p.locked {
                <p class="composer-locked" id="composer-locked" data-testid="composer-locked"
                    role="status">
                    { crate::components::lock_icon() }{ why.clone() }
                </p>
            } else {
                <p class="composer-hint">{ "Enter to send · Shift+Enter for a new line" }</p>
            }
        </>
    }
}
