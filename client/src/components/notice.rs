//! A notice for the person (`notice`): a refusal to dismiss, or "reload to update" with a
//! Reload button.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub text: AttrValue,
    /// The page must be reloaded: offer that instead of dismissing.
    pub must_reload: bool,
    pub on_dismiss: Callback<()>,
    pub on_reload: Callback<()>,
}

#[function_component(Notice)]
pub fn notice(p: &Props) -> Html {
    let (class, button) = if p.must_reload {
        let reload = p.on_reload.reform(|_: MouseEvent| ());
        (
            "notice notice-update",
            html! { <button type="button" class="primary" onclick={reload}>{ "Reload" }</button> },
        )
    } else {
        let dismiss = p.on_dismiss.reform(|_: MouseEvent| ());
        (
            "notice",
            html! {
                <button type="button" class="ghost icon" aria-label="Dismiss" onclick={dismiss}>{ "✕" }</button>
            },
        )
    };
    html! {
        <div class={class} role="alert" data-testid="notice">
            <span>{ p.text.clone() }</span>
            { button }
        </div>
    }
}
