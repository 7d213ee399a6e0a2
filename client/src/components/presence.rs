//! Who is in the room (`presence-member`, with `data-member` = the user id and `data-role` in
//! a private room), their roles marked (`role-mark`: owner, viewer), and for the owner a menu
//! per other member (`member-menu`, then `kick`, `ban`, `make-viewer` or `make-member`).
//!
//! The heading says exactly how many are here (`presence-count`, `data-count`). A big room
//! lists only some: then the panel says how many it shows (`presence-shown`), a "Show more"
//! button (`presence-more`) asks for the next page, and a search box (`presence-search`)
//! filters the listed by name; the list scrolls.
//!
//! The menu is a button (`aria-haspopup`, `aria-expanded`) opening a list of buttons
//! (`role="menu"`): opening it focuses its first item, Arrow Up/Down move between items,
//! Escape closes it and gives the focus back to its button.

use super::{hue, initial};
use crate::model::roster::{matching, thousands};
use crate::model::Moderation;
use std::rc::Rc;
use tandem_shared::{Member, Role};
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlInputElement};
use yew::prelude::*;

/// With more listed than this, the search box shows even when everyone is listed.
const SEARCH_FROM: usize = 12;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub room: AttrValue,
    /// Who is listed (in a big room, some of those here).
    pub members: Rc<Vec<Member>>,
    /// How many are here: exact.
    pub count: u64,
    /// The next page of members is on its way.
    pub loading: bool,
    pub me: Option<AttrValue>,
    /// We own the room: offer each other member's menu.
    pub owner: bool,
    /// (room, what the owner asks).
    pub on_moderate: Callback<(String, Moderation)>,
    /// List more of the room (the next page of members).
    pub on_more: Callback<String>,
}

#[function_component(Presence)]
pub fn presence(p: &Props) -> Html {
    // The member whose menu is open.
    let open = use_state(|| None::<String>);
    let on_open = {
        let setter = open.setter();
        use_callback((), move |id: Option<String>, _| setter.set(id))
    };
    let query = use_state(String::new);
    let on_query = {
        let setter = query.setter();
        use_callback((), move |e: InputEvent, _| {
            setter.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let listed = p.members.len();
    let unlisted = p.count > listed as u64;
    let search = use_node_ref();
    {
        // When the last page is in, "Show more" goes: its focus goes to the search box.
        let (search, was) = (search.clone(), use_mut_ref(|| false));
        use_effect_with(unlisted, move |&unlisted| {
            let had_more = std::mem::replace(&mut *was.borrow_mut(), unlisted);
            if had_more && !unlisted && nothing_focused() {
                if let Some(input) = search.cast::<HtmlElement>() {
                    let _ = input.focus();
                }
            }
        });
    }
    let on_more = {
        let room = p.room.to_string();
        p.on_more.reform(move |_: MouseEvent| room.clone())
    };
    let member = |m: &Member| {
        let me = p.me.as_deref() == Some(m.id.as_str());
        let role = m.role.map(role_name);
        let mark = match m.role {
            Some(Role::Owner) => Some(("owner", "Owner of the room")),
            Some(Role::Viewer) => Some(("viewer", "Can read, not write")),
            _ => None,
        };
        html! {
            <li class="member" data-testid="presence-member" data-member={m.id.clone()}
                data-role={role} key={m.id.clone()}>
                <span class="avatar" style={hue(&m.id)} aria-hidden="true">{ initial(&m.name) }</span>
                <span class="name">{ m.name.clone() }</span>
                if me {
                    <span class="you">{ "(you)" }</span>
                }
                if let Some((text, title)) = mark {
                    <span class={classes!("role-mark", text)} data-testid="role-mark" title={title}>
                        { text }
                    </span>
                }
                if p.owner && !me {
                    <MemberMenu room={p.room.clone()} member={m.clone()}
                        open={open.as_deref() == Some(m.id.as_str())}
                        on_open={on_open.clone()}
                        on_moderate={p.on_moderate.clone()} />
                }
            </li>
        }
    };
    let searchable = unlisted || listed > SEARCH_FROM || !query.is_empty();
    let shown = matching(&p.members, &query);
    let count = thousands(p.count);
    html! {
        <aside class={classes!("presence", searchable.then_some("big"))}
            aria-label="People in this room">
            <h2>
                { "Here now " }
                <span class="count" data-testid="presence-count" data-count={p.count.to_string()}>
                    { count.clone() }
                </span>
            </h2>
            if searchable {
                <div class="presence-tools">
                    if unlisted {
                        <p class="presence-shown" id="presence-shown" data-testid="presence-shown">
                            { format!("Showing {} of {count}", thousands(listed as u64)) }
                        </p>
                    }
                    <input type="search" class="presence-search" data-testid="presence-search"
                        ref={search} value={(*query).clone()} oninput={on_query}
                        placeholder="Find by name" aria-label="Find people here by name"
                        aria-controls="presence-list" autocomplete="off" spellcheck="false" />
                </div>
            }
            <ul id="presence-list">
                { for shown.iter().map(|m| member(m)) }
            </ul>
            if shown.is_empty() && !query.trim().is_empty() {
                <p class="presence-none" role="status">
                    { format!("No one listed matches \u{201c}{}\u{201d}.", query.trim()) }
                    if unlisted { { " Show more to look further." } }
                </p>
            }
            if unlisted {
                <button type="button" class="ghost small presence-more" data-testid="presence-more"
                    aria-describedby="presence-shown" aria-busy={p.loading.to_string()}
                    onclick={on_more}>
                    { if p.loading { "Loading\u{2026}" } else { "Show more" } }
                </button>
            }
        </aside>
    }
}

/// The focus is on no element (it was on one that went away: the page's body has it).
fn nothing_focused() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .is_none_or(|e| e.tag_name().eq_ignore_ascii_case("body"))
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Member => "member",
        Role::Viewer => "viewer",
    }
}

#[derive(Properties, PartialEq)]
struct MenuProps {
    room: AttrValue,
    member: Member,
    open: bool,
    /// Open this member's menu (`Some(id)`) or close it.
    on_open: Callback<Option<String>>,
    on_moderate: Callback<(String, Moderation)>,
}

#[function_component(MemberMenu)]
fn member_menu(p: &MenuProps) -> Html {
    let button = use_node_ref();
    let menu = use_node_ref();
    {
        // Opening puts the focus on the first item.
        let menu = menu.clone();
        use_effect_with(p.open, move |open| {
            if *open {
                focus_item(&menu, |_, _| 0);
            }
        });
    }
    let id = p.member.id.clone();
    let toggle = {
        let (open, id) = (p.open, id.clone());
        p.on_open
            .reform(move |_: MouseEvent| (!open).then(|| id.clone()))
    };
    let onkeydown = {
        let (on_open, menu, button) = (p.on_open.clone(), menu.clone(), button.clone());
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" => {
                e.prevent_default();
                on_open.emit(None);
                if let Some(b) = button.cast::<HtmlElement>() {
                    let _ = b.focus();
                }
            }
            "ArrowDown" => {
                e.prevent_default();
                focus_item(&menu, |at, n| at.map_or(0, |i| (i + 1) % n));
            }
            "ArrowUp" => {
                e.prevent_default();
                focus_item(&menu, |at, n| at.map_or(n - 1, |i| (i + n - 1) % n));
            }
            _ => {}
        })
    };
    let name = &p.member.name;
    let viewer = p.member.role == Some(Role::Viewer);
    let item = |testid: &'static str, label: String, what: Moderation, danger: bool| {
        let room = p.room.to_string();
        let (on_open, button) = (p.on_open.clone(), button.clone());
        let onclick = p.on_moderate.reform(move |_: MouseEvent| {
            on_open.emit(None);
            // The focus goes back to the menu's button (if the member is still there).
            if let Some(b) = button.cast::<HtmlElement>() {
                let _ = b.focus();
            }
            (room.clone(), what.clone())
        });
        html! {
            <button type="button" role="menuitem" data-testid={testid}
                class={classes!("menu-item", danger.then_some("danger"))} {onclick}>
                { label }
            </button>
        }
    };
    let menu_id = format!("member-menu-{id}");
    html! {
        <div class="member-actions" {onkeydown}>
            <button type="button" class="ghost icon member-menu-button" data-testid="member-menu"
                ref={button.clone()} aria-haspopup="menu" aria-expanded={p.open.to_string()}
                aria-controls={menu_id.clone()} aria-label={format!("Actions for {name}")}
                title={format!("Actions for {name}")} onclick={toggle}>
                { "⋯" }
            </button>
            if p.open {
                <div class="menu" role="menu" id={menu_id} ref={menu}
                    aria-label={format!("Actions for {name}")}>
                    if viewer {
                        { item("make-member", "Make member (may write)".into(),
                            Moderation::SetRole { user: id.clone(), role: Role::Member }, false) }
                    } else {
                        { item("make-viewer", "Make viewer (read-only)".into(),
                            Moderation::SetRole { user: id.clone(), role: Role::Viewer }, false) }
                    }
                    { item("kick", format!("Remove {name}"),
                        Moderation::Kick { user: id.clone(), ban: false }, true) }
                    { item("ban", format!("Ban {name}"),
                        Moderation::Kick { user: id.clone(), ban: true }, true) }
                </div>
            }
        </div>
    }
}

/// Focus the menu item `pick(focused index, count)` returns.
fn focus_item(menu: &NodeRef, pick: impl Fn(Option<usize>, usize) -> usize) {
    let Some(menu) = menu.cast::<HtmlElement>() else {
        return;
    };
    let Ok(items) = menu.query_selector_all("[role=menuitem]") else {
        return;
    };
    let n = items.length() as usize;
    if n == 0 {
        return;
    }
    let active = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element());
    let active: Option<&web_sys::Node> = active.as_ref().map(AsRef::as_ref);
    let at = (0..n).find(|&i| items.item(i as u32).as_ref() == active);
    let next = items
        .item(pick(at, n) as u32)
        .and_then(|e| e.dyn_into::<HtmlElement>().ok());
    if let Some(el) = next {
        let _ = el.focus();
    }
}
