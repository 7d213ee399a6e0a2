//! What the root draws: the top bar, tabs, notice, join form and the room area, each part a
//! component handed its props.

use super::{App, Pane};
use crate::browser;
use crate::components::{
    chat::{typing_line, ChatPane},
    doc::DocPane,
    home::Home,
    notice::Notice,
    presence::Presence,
    room_bar::RoomBar,
    status::ConnectionStatus,
    tabs::{Tab, Tabs},
    user_color,
};
use std::rc::Rc;
use tandem_shared::Role;
use yew::prelude::*;

impl App {
    /// The whole page: top bar with the connection status, room tabs, notice, then the join
    /// form or the room shown.
    pub(super) fn page(&self) -> Html {
        let s = &self.state;
        let tabs: Rc<Vec<Tab>> = Rc::new(
            s.rooms
                .iter()
                .map(|r| Tab {
                    room: r.name.clone(),
                    label: r.label(),
                    private: r.is_private(),
                    unread: r.unread,
                })
                .collect(),
        );
        html! {
            <div class="app">
                <header class="topbar">
                    <a class="brand" href="/" aria-label="Tandem home">{ "Tandem" }</a>
                    <span class="spacer" />
                    <ConnectionStatus conn={s.status()} retry_in={s.retry_in_secs(self.now)}
                        must_reload={s.must_reload} on_retry={self.cb.retry.clone()} />
                </header>
                if !s.rooms.is_empty() {
                    <Tabs {tabs} current={s.current.clone()} on_switch={self.cb.switch.clone()}
                        on_leave={self.cb.leave.clone()} on_add={self.cb.show_form.clone()} />
                }
                if let Some(text) = &s.notice {
                    <Notice text={text.clone()} must_reload={s.must_reload}
                        on_dismiss={self.cb.dismiss.clone()} on_reload={self.cb.reload.clone()} />
                }
                if s.current.is_none() {
                    <Home name={s.name.clone()} room={self.prefill.clone()}
                        first={s.rooms.is_empty()} on_join={self.cb.join.clone()}
                        on_create={self.cb.create.clone()} creating={s.creating.is_some()} />
                }
                if !s.rooms.is_empty() {
                    { self.room_view() }
                }
            </div>
        }
    }

    /// The room area: the chat and presence of the room shown, and every joined room's
    /// document pane (only the shown one draws itself; the others keep syncing).
    fn room_view(&self) -> Html {
        let s = &self.state;
        let me: AttrValue = s.user_id.clone().unwrap_or_default().into();
        let color: AttrValue = user_color(&me).into();
        let current = s.current_room();
        let pane = |p: Pane, label: &'static str, testid: &'static str| {
            let onclick = self.cb.pane.reform(move |_: MouseEvent| p);
            let active = self.pane == p;
            html! {
                <button type="button" role="tab" class={classes!("pane-tab", active.then_some("active"))}
                    data-testid={testid} aria-selected={active.to_string()} {onclick}>
                    { label }
                </button>
            }
        };
        let shown = match self.pane {
            Pane::Chat => "chat",
            Pane::Doc => "doc",
        };
        let stale = current.is_some_and(|r| !r.joined);
        html! {
            <main class={classes!("room", stale.then_some("stale"))} data-pane={shown}
                hidden={current.is_none()}>
                if let Some(r) = current {
                    <RoomBar room={r.name.clone()} label={r.label()} private={r.is_private()}
                        read_only={r.read_only} viewer={r.role == Some(Role::Viewer)}
                        owner={r.is_owner()}
                        invite_link={r.invite.as_ref().map(|i| AttrValue::from(invite_link(&r.name, i)))}
                        on_moderate={self.cb.moderate.clone()} />
                }
                <div class="pane-switch" role="tablist" aria-label="Show">
                    { pane(Pane::Chat, "Chat", "pane-chat") }
                    { pane(Pane::Doc, "Document", "pane-doc") }
                </div>
                // Keyed by room: entering a room starts its pane afresh (at the end, focused).
                { for current.map(|r| html! {
                    <ChatPane key={r.name.clone()} room={r.name.clone()} label={r.label()}
                        locked={r.locked().map(AttrValue::from)} messages={r.messages.clone()} pending={r.pending.clone()}
                        me={Some(me.clone())} joined={r.joined}
                        loading={!r.ever_joined && r.messages.is_empty()} gap={r.gap}
                        has_older={r.has_older()} loading_older={r.loading_older}
                        typing={typing_line(&r.typing_now(self.now).map(|m| m.name.as_str()).collect::<Vec<_>>()).map(AttrValue::from)}
                        draft={r.draft.clone()} on_draft={self.cb.draft.clone()}
                        on_send={self.cb.send.clone()} on_load_older={self.cb.load_older.clone()} />
                }) }
                { for s.rooms.iter().map(|r| html! {
                    <DocPane key={r.name.clone()} room={r.name.clone()}
                        shown={current.is_some_and(|c| c.name == r.name)}
                        name={s.name.clone()} color={color.clone()} me={me.clone()}
                        label={r.label()} can_edit={r.can_edit()}
                        invite={r.join_invite.clone().map(AttrValue::from)} />
                }) }
                if let Some(r) = current {
                    // Keyed by room: a search typed in one room is not another's.
                    <Presence key={r.name.clone()} room={r.name.clone()} members={r.members.clone()}
                        count={r.count} loading={r.loading_members}
                        me={Some(me.clone())} owner={r.is_owner()}
                        on_moderate={self.cb.moderate.clone()}
                        on_more={self.cb.more_members.clone()} />
                }
            </main>
        }
    }
}

/// The link that lets people into a private room: `<origin>/r/<room>?invite=<secret>`.
fn invite_link(room: &str, invite: &str) -> String {
    format!(
        "{}{}?invite={invite}",
        browser::origin(),
        browser::path_for(Some(room))
    )
}
