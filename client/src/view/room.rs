//! The room shown: its messages (`message`, confirmed with `data-seq`, unconfirmed with
//! `data-pending`), the "new messages" button, the typing line, the message box
//! (`composer`, `send-button`) and who is here (`presence-member`); beside them the room's
//! shared document ([`super::doc`]), and on phones a switch between the two (`pane-chat`,
//! `pane-doc`).

use super::{hue, initial, typing_line};
use crate::app::{App, Msg, Pane};
use crate::browser::format_time;
use crate::state::{Pending, Room};
use tandem_shared::limits::MAX_TEXT_LEN;
use tandem_shared::{ChatMessage, Member};
use web_sys::HtmlTextAreaElement;
use yew::html::Scope;
use yew::prelude::*;

pub fn room(app: &App, link: &Scope<App>) -> Html {
    let s = &app.state;
    let Some(r) = s.current_room() else {
        return html! {};
    };
    let me = s.user_id.as_deref();
    let onsubmit = link.callback(|e: SubmitEvent| {
        e.prevent_default();
        Msg::Send
    });
    let oninput = link.callback(|e: InputEvent| {
        Msg::Draft(e.target_unchecked_into::<HtmlTextAreaElement>().value())
    });
    let onkeydown = link.batch_callback(|e: KeyboardEvent| {
        (e.key() == "Enter" && !e.shift_key() && !e.is_composing()).then(|| {
            e.prevent_default();
            Msg::Send
        })
    });
    let onscroll = link.callback(|_| Msg::Scrolled);
    let jump = link.callback(|_| Msg::JumpToBottom);
    let loading = !r.ever_joined && r.messages.is_empty();
    let typists: Vec<&str> = r.typing_now(app.now).map(|m| m.name.as_str()).collect();
    let typing = typing_line(&typists);
    let pane = |p: Pane, label: &'static str, testid: &'static str| {
        let onclick = link.callback(move |_| Msg::Pane(p));
        let active = app.pane == p;
        html! {
            <button type="button" role="tab" class={classes!("pane-tab", active.then_some("active"))}
                data-testid={testid} aria-selected={active.to_string()} {onclick}>
                { label }
            </button>
        }
    };
    let shown = match app.pane {
        Pane::Chat => "chat",
        Pane::Doc => "doc",
    };
    html! {
        <main class={classes!("room", (!r.joined).then_some("stale"))} data-pane={shown}>
            <div class="pane-switch" role="tablist" aria-label="Show">
                { pane(Pane::Chat, "Chat", "pane-chat") }
                { pane(Pane::Doc, "Document", "pane-doc") }
            </div>
            <section class="chat" aria-label={format!("Messages in #{}", r.name)}>
                <div class="messages-wrap">
                    <ol class="messages" ref={app.list_ref.clone()} {onscroll} tabindex="0"
                        aria-label="Messages">
                        if r.gap {
                            <li class="gap-note" data-testid="gap-note">
                                { "Some older messages are not shown." }
                            </li>
                        }
                        if loading {
                            <li class="empty">{ "Loading…" }</li>
                        } else if r.messages.is_empty() && r.pending.is_empty() {
                            <li class="empty">{ "No messages yet. Say hello!" }</li>
                        }
                        { for r.messages.iter().map(|m| message(m, me)) }
                        { for r.pending.iter().map(|p| pending(p, r)) }
                    </ol>
                    if app.unseen > 0 {
                        <button type="button" class="new-messages" data-testid="new-messages"
                            onclick={jump}>
                            { if app.unseen == 1 { "↓ 1 new message".to_owned() } else { format!("↓ {} new messages", app.unseen) } }
                        </button>
                    }
                </div>
                <div class="typing" data-testid="typing" aria-live="polite">
                    { typing.unwrap_or_default() }
                </div>
                <form class="composer" {onsubmit}>
                    <textarea data-testid="composer" ref={app.composer_ref.clone()} rows="1"
                        aria-label={format!("Message #{}", r.name)}
                        placeholder={format!("Message #{}", r.name)}
                        maxlength={MAX_TEXT_LEN.to_string()}
                        value={r.draft.clone()} {oninput} {onkeydown} />
                    <button type="submit" class="primary" data-testid="send-button">{ "Send" }</button>
                </form>
                if let Some(err) = &app.composer_error {
                    <p class="form-error composer-error" role="alert">{ err.clone() }</p>
                }
                <p class="composer-hint">{ "Enter to send · Shift+Enter for a new line" }</p>
            </section>
            { super::doc::doc(app, link, &r.name) }
            <aside class="presence" aria-label="People in this room">
                <h2>{ "Here now " }<span class="count">{ r.members.len() }</span></h2>
                <ul>
                    { for r.members.iter().map(|m| member(m, me)) }
                </ul>
            </aside>
        </main>
    }
}

fn message(m: &ChatMessage, me: Option<&str>) -> Html {
    let mine = me == Some(m.sender.id.as_str());
    let (short, full) = format_time(m.ts);
    html! {
        <li class={classes!("message", mine.then_some("mine"))} data-testid="message"
            data-seq={m.seq.to_string()} data-mine={mine.to_string()}>
            <div class="meta">
                <span class="sender" style={hue(&m.sender.id)}>{ m.sender.name.clone() }</span>
                if mine {
                    <span class="you">{ "you" }</span>
                }
                <time class="time" title={full}>{ short }</time>
            </div>
            <div class="text">{ m.text.clone() }</div>
        </li>
    }
}

fn pending(p: &Pending, r: &Room) -> Html {
    let (status, note) = match (&p.failed, r.joined) {
        (Some(why), _) => ("failed", format!("not sent: {why}")),
        (None, true) => ("pending", "sending…".to_owned()),
        (None, false) => ("pending", "waiting for connection…".to_owned()),
    };
    let failed = p.failed.is_some();
    html! {
        <li class="message mine pending" data-testid="message" data-status={status}
            data-pending={(!failed).then_some("true")} data-failed={failed.then_some("true")}
            data-client-id={p.client_id.clone()}>
            <div class="meta">
                <span class="you">{ "you" }</span>
                <span class="time">{ note }</span>
            </div>
            <div class="text">{ p.text.clone() }</div>
        </li>
    }
}

fn member(m: &Member, me: Option<&str>) -> Html {
    html! {
        <li class="member" data-testid="presence-member" data-member={m.id.clone()}>
            <span class="avatar" style={hue(&m.id)} aria-hidden="true">{ initial(&m.name) }</span>
            <span class="name">{ m.name.clone() }</span>
            if me == Some(m.id.as_str()) {
                <span class="you">{ "(you)" }</span>
            }
        </li>
    }
}
