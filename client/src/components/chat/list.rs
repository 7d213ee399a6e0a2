//! The room's messages (`message`: confirmed ones with `data-seq`, unconfirmed ones with
//! `data-pending` or `data-failed`), and everything about their scrolling: following new
//! messages while the reader is at the end, counting the ones that arrive while they read
//! further up ("↓ N new messages", `new-messages`), and scrollback — near the top it asks
//! for older messages and keeps the reading position when they arrive, down to the room's
//! first message (`history-start`; `history-loading` meanwhile, `history-more` before).
//!
//! Each message is its own component keyed by `seq` with an `Rc` prop, so a new message
//! renders one item, not the whole list. `data-renders` on the list counts its renders.

use crate::browser::format_time;
use crate::model::{Messages, Pending};
use std::cell::Cell;
use std::rc::Rc;
use tandem_shared::ChatMessage;
use web_sys::HtmlElement;
use yew::prelude::*;

/// Closer than this to the end of the list (px) counts as "at the end".
const NEAR_BOTTOM_PX: i32 = 80;
/// Closer than this to the top (px) asks for older messages.
const NEAR_TOP_PX: i32 = 200;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub room: AttrValue,
    /// How the room is named (`#lobby`, or a private room's title).
    pub label: AttrValue,
    pub messages: Messages,
    pub pending: Rc<Vec<Pending>>,
    pub me: Option<AttrValue>,
    pub joined: bool,
    pub loading: bool,
    pub gap: bool,
    pub has_older: bool,
    pub loading_older: bool,
    pub on_load_older: Callback<String>,
}

pub enum Msg {
    Scrolled,
    JumpToEnd,
}

pub struct MessageList {
    list: NodeRef,
    /// Messages from others that arrived below the visible part of the list.
    unseen: u32,
    /// Scroll to the end after the next render.
    stick: bool,
    /// Distance from the end of the content to the top of the view before older messages
    /// were put in front: restored after the render, so the reader stays where they were.
    keep_from_end: Option<i32>,
    renders: Cell<u64>,
}

impl MessageList {
    fn el(&self) -> Option<HtmlElement> {
        self.list.cast::<HtmlElement>()
    }

    fn near_bottom(&self) -> bool {
        self.el()
            .is_none_or(|l| l.scroll_height() - l.scroll_top() - l.client_height() < NEAR_BOTTOM_PX)
    }

    /// Ask for older messages when the reader is near the top, or when the list does not
    /// fill its box (there is nothing to scroll yet).
    fn maybe_load_older(&self, ctx: &Context<Self>) {
        let p = ctx.props();
        if !p.joined || !p.has_older || p.loading_older {
            return;
        }
        if let Some(l) = self.el() {
            if l.scroll_top() < NEAR_TOP_PX || l.scroll_height() <= l.client_height() {
                p.on_load_older.emit(p.room.to_string());
            }
        }
    }
}

impl Component for MessageList {
    type Message = Msg;
    type Properties = Props;

    fn create(_ctx: &Context<Self>) -> Self {
        MessageList {
            list: NodeRef::default(),
            unseen: 0,
            stick: true,
            keep_from_end: None,
            renders: Cell::new(0),
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Scrolled => {
                self.maybe_load_older(ctx);
                if self.unseen > 0 && self.near_bottom() {
                    self.unseen = 0;
                    return true;
                }
                false
            }
            Msg::JumpToEnd => {
                self.stick = true;
                self.unseen = 0;
                true
            }
        }
    }

    fn changed(&mut self, ctx: &Context<Self>, old: &Props) -> bool {
        let new = ctx.props();
        let first = |m: &Messages| m.first().map(|m| m.seq);
        let last = |m: &Messages| m.last().map(|m| m.seq);
        if first(&new.messages) < first(&old.messages) && last(&new.messages) == last(&old.messages)
        {
            // Older messages go in front: keep the reader's place.
            if let Some(l) = self.el() {
                self.keep_from_end = Some(l.scroll_height() - l.scroll_top());
            }
        } else if last(&new.messages) > last(&old.messages) || new.pending.len() > old.pending.len()
        {
            let seen = last(&old.messages);
            let me = new.me.as_deref();
            let fresh = new
                .messages
                .iter()
                .rev()
                .take_while(|m| Some(m.seq) > seen)
                .filter(|m| Some(m.sender.id.as_str()) != me)
                .count() as u32;
            let own = new.pending.len() > old.pending.len();
            if own || old.loading || self.near_bottom() {
                self.stick = true;
                self.unseen = 0;
            } else {
                self.unseen += fresh;
            }
        } else if new.gap && !old.gap {
            self.stick = true;
        }
        true
    }

    fn rendered(&mut self, ctx: &Context<Self>, _first: bool) {
        let Some(l) = self.el() else {
            return;
        };
        if let Some(from_end) = self.keep_from_end.take() {
            l.set_scroll_top(l.scroll_height() - from_end);
        } else if std::mem::take(&mut self.stick) {
            l.set_scroll_top(l.scroll_height());
        }
        self.maybe_load_older(ctx);
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        self.renders.set(self.renders.get() + 1);
        let p = ctx.props();
        let onscroll = ctx.link().callback(|_: Event| Msg::Scrolled);
        let jump = ctx.link().callback(|_: MouseEvent| Msg::JumpToEnd);
        let me = p.me.as_deref();
        let at_start = !p.has_older && p.messages.first().is_some_and(|m| m.seq == 1);
        let (note_id, note) = if p.loading_older {
            ("history-loading", "Loading older messages…".to_owned())
        } else if at_start {
            (
                "history-start",
                format!("This is the start of {}.", p.label),
            )
        } else {
            ("history-more", String::new())
        };
        let unseen = match self.unseen {
            1 => "↓ 1 new message".to_owned(),
            n => format!("↓ {n} new messages"),
        };
        html! {
            <div class="messages-wrap">
                <ol class="messages" ref={self.list.clone()} {onscroll} tabindex="0"
                    aria-label="Messages" data-testid="message-list"
                    data-renders={self.renders.get().to_string()}>
                    // Always there and of one height, so that its text changing never moves
                    // what is being read.
                    <li class="history-note" data-testid={note_id}>{ note }</li>
                    if p.gap {
                        <li class="gap-note" data-testid="gap-note">
                            { "You were away for a while: these are the latest messages. Scroll up for older ones." }
                        </li>
                    }
                    if p.loading {
                        <li class="empty">{ "Loading…" }</li>
                    } else if p.messages.is_empty() && p.pending.is_empty() {
                        <li class="empty">{ "No messages yet. Say hello!" }</li>
                    }
                    { for p.messages.iter().map(|m| {
                        let mine = me == Some(m.sender.id.as_str());
                        html! { <Message key={m.seq} msg={m.clone()} {mine} /> }
                    }) }
                    { for p.pending.iter().map(|pending| html! {
                        <Unconfirmed key={pending.client_id.clone()} pending={pending.clone()}
                            joined={p.joined} />
                    }) }
                </ol>
                if self.unseen > 0 {
                    <button type="button" class="new-messages" data-testid="new-messages"
                        onclick={jump}>
                        { unseen }
                    </button>
                }
            </div>
        }
    }
}

#[derive(Properties, PartialEq)]
struct MessageProps {
    msg: Rc<ChatMessage>,
    mine: bool,
}

#[function_component(Message)]
fn message(p: &MessageProps) -> Html {
    let m = &p.msg;
    let (short, full) = format_time(m.ts);
    html! {
        <li class={classes!("message", p.mine.then_some("mine"))} data-testid="message"
            data-seq={m.seq.to_string()} data-mine={p.mine.to_string()}>
            <div class="meta">
                <span class="sender" style={super::super::hue(&m.sender.id)}>{ m.sender.name.clone() }</span>
                if p.mine {
                    <span class="you">{ "you" }</span>
                }
                <time class="time" title={full}>{ short }</time>
            </div>
            <div class="text">{ m.text.clone() }</div>
        </li>
    }
}

#[derive(Properties, PartialEq)]
struct UnconfirmedProps {
    pending: Pending,
    joined: bool,
}

#[function_component(Unconfirmed)]
fn unconfirmed(p: &UnconfirmedProps) -> Html {
    let pending = &p.pending;
    let (status, note) = match (&pending.failed, p.joined) {
        (Some(why), _) => ("failed", format!("not sent: {why}")),
        (None, true) => ("pending", "sending…".to_owned()),
        (None, false) => ("pending", "waiting for connection…".to_owned()),
    };
    let failed = pending.failed.is_some();
    html! {
        <li class="message mine pending" data-testid="message" data-status={status}
            data-pending={(!failed).then_some("true")} data-failed={failed.then_some("true")}
            data-client-id={pending.client_id.clone()}>
            <div class="meta">
                <span class="you">{ "you" }</span>
                <span class="time">{ note }</span>
            </div>
            <div class="text">{ pending.text.clone() }</div>
        </li>
    }
}
