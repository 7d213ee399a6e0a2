//! The admin view's two tables: the live rooms (`admin-rooms`: members, connections,
//! messages per minute; read-only and close) and the live connections (`admin-conns`: user,
//! endpoint, peer, rooms, age; close it, disconnect the user, kick them from a room). Every
//! button says what it does; the view ([`super::admin`]) sends it.

use super::admin::Act;
use crate::model::admin::{age, short_user, ConnRow, RoomRow};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RoomsProps {
    pub rooms: Vec<RoomRow>,
    pub on_act: Callback<Act>,
}

#[function_component(RoomsTable)]
pub fn rooms_table(p: &RoomsProps) -> Html {
    let row = |r: &RoomRow| {
        let (room, read_only) = (r.room.clone(), r.read_only);
        let toggle = p
            .on_act
            .reform(move |_: MouseEvent| Act::ReadOnly(room.clone(), !read_only));
        let room = r.room.clone();
        let close = p
            .on_act
            .reform(move |_: MouseEvent| Act::CloseRoom(room.clone()));
        html! {
            <tr data-testid="admin-room" data-room={r.room.clone()} key={r.room.clone()}>
                <td class="name">
                    <a href={crate::browser::path_for(Some(&r.room))}>{ &r.room }</a>
                    if r.private { <span class="badge">{ "private" }</span> }
                    if r.read_only { <span class="badge" data-testid="room-read-only-badge">{ "read-only" }</span> }
                </td>
                <td class="num" data-testid="room-members">{ r.members }</td>
                <td class="num" data-testid="room-connections">{ r.connections }</td>
                <td class="num" data-testid="room-rate">{ r.messages_last_minute }</td>
                <td class="num">{ r.last_seq }</td>
                <td class="actions">
                    <button type="button" class="ghost small" data-testid="room-read-only" onclick={toggle}>
                        { if r.read_only { "Make writable" } else { "Make read-only" } }
                    </button>
                    <button type="button" class="danger small" data-testid="room-close" onclick={close}>
                        { "Close room" }
                    </button>
                </td>
            </tr>
        }
    };
    html! {
        <section class="admin-section">
            <h2>{ format!("Rooms ({})", p.rooms.len()) }</h2>
            if p.rooms.is_empty() {
                <p class="empty">{ "No room is live on this node." }</p>
            } else {
                <table class="admin-table" data-testid="admin-rooms">
                    <thead><tr>
                        <th>{ "Room" }</th><th>{ "Members" }</th><th>{ "Connections" }</th>
                        <th>{ "Messages / min" }</th><th>{ "Last seq" }</th><th />
                    </tr></thead>
                    <tbody>{ for p.rooms.iter().map(row) }</tbody>
                </table>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ConnsProps {
    pub conns: Vec<ConnRow>,
    pub now: u64,
    pub on_act: Callback<Act>,
}

#[function_component(ConnsTable)]
pub fn conns_table(p: &ConnsProps) -> Html {
    let row = |c: &ConnRow| {
        let id = c.id;
        let close = p.on_act.reform(move |_: MouseEvent| Act::CloseConn(id));
        let user = c.user.clone();
        let disconnect = p
            .on_act
            .reform(move |_: MouseEvent| Act::CloseUser(user.clone()));
        let kicks = c.rooms.iter().map(|room| {
            let act = Act::Kick {
                room: room.clone(),
                user: c.user.clone(),
            };
            let onclick = p.on_act.reform(move |_: MouseEvent| act.clone());
            html! {
                <button type="button" class="ghost small" data-testid="conn-kick"
                    data-room={room.clone()} {onclick}>
                    { format!("Kick from {room}") }
                </button>
            }
        });
        html! {
            <tr data-testid="admin-conn" data-conn={c.id.to_string()} data-user={c.user.clone()}
                key={c.id.to_string()}>
                <td class="num">{ c.id }</td>
                <td class="user" title={c.user.clone()}>{ short_user(&c.user) }</td>
                <td>{ &c.endpoint }</td>
                <td class="peer">{ &c.peer }</td>
                <td>{ c.rooms.join(", ") }</td>
                <td class="num">{ age(p.now, c.since_ms) }</td>
                <td class="actions">
                    { for kicks }
                    <button type="button" class="danger small" data-testid="conn-close" onclick={close}>
                        { "Close" }
                    </button>
                    if !c.user.is_empty() {
                        <button type="button" class="danger small" data-testid="user-disconnect"
                            onclick={disconnect}>
                            { "Disconnect user" }
                        </button>
                    }
                </td>
            </tr>
        }
    };
    html! {
        <section class="admin-section">
            <h2>{ format!("Connections ({})", p.conns.len()) }</h2>
            if p.conns.is_empty() {
                <p class="empty">{ "No connection to this node." }</p>
            } else {
                <table class="admin-table" data-testid="admin-conns">
                    <thead><tr>
                        <th>{ "Id" }</th><th>{ "User" }</th><th>{ "Endpoint" }</th>
                        <th>{ "Peer" }</th><th>{ "Rooms" }</th><th>{ "Age" }</th><th />
                    </tr></thead>
                    <tbody>{ for p.conns.iter().map(row) }</tbody>
                </table>
            }
        </section>
    }
}
