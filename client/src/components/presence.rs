//! Who is in the room (`presence-member`, with `data-member` = the user id).

use super::{hue, initial};
use std::rc::Rc;
use tandem_shared::Member;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub members: Rc<Vec<Member>>,
    pub me: Option<AttrValue>,
}

#[function_component(Presence)]
pub fn presence(p: &Props) -> Html {
    let member = |m: &Member| {
        html! {
            <li class="member" data-testid="presence-member" data-member={m.id.clone()} key={m.id.clone()}>
                <span class="avatar" style={hue(&m.id)} aria-hidden="true">{ initial(&m.name) }</span>
                <span class="name">{ m.name.clone() }</span>
                if p.me.as_deref() == Some(m.id.as_str()) {
                    <span class="you">{ "(you)" }</span>
                }
            </li>
        }
    };
    html! {
        <aside class="presence" aria-label="People in this room">
            <h2>{ "Here now " }<span class="count">{ p.members.len() }</span></h2>
            <ul>
                { for p.members.iter().map(member) }
            </ul>
        </aside>
    }
}
