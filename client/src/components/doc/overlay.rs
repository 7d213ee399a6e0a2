//! What the document pane draws besides the editor: the people in the document
//! (`doc-person`, `data-name`) and the overlay that mirrors the editor's text invisibly
//! (same font, padding and wrapping) to place the others' selections and carets
//! (`doc-caret`, with `data-name`) where their text is.

use crate::model::doc::protocol::safe_color;
use crate::model::doc::{Caret, Selection};
use yew::prelude::*;

/// The colour style of another client's marks.
pub(super) fn color_style(client: u64, color: &str) -> String {
    match safe_color(color) {
        Some(c) => format!("--c: {c}"),
        None => format!("--c: hsl({} 60% 45%)", client % 360),
    }
}

pub(super) fn person(client: u64, name: &str, color: &str) -> Html {
    html! {
        <li class="doc-person" data-testid="doc-person" data-name={name.to_owned()}
            style={color_style(client, color)} title={name.to_owned()}>
            <span class="swatch" aria-hidden="true" />{ name.to_owned() }
        </li>
    }
}

/// A piece of the overlay.
#[derive(Debug, PartialEq, Eq)]
enum Piece {
    /// Text (invisible), highlighted as the selection of `carets[i]` if any.
    Text(String, Option<usize>),
    /// The caret of `carets[i]`.
    Caret(usize),
}

/// The text cut at every caret and selection edge (UTF-16 offsets, on character
/// boundaries).
fn pieces(text: &str, carets: &[Caret]) -> Vec<Piece> {
    let units: Vec<u16> = text.encode_utf16().collect();
    let len = units.len() as u32;
    let span = |s: &Selection| (s.anchor.min(s.head).min(len), s.anchor.max(s.head).min(len));
    let mut cuts: Vec<u32> = vec![0, len];
    for c in carets {
        let (a, b) = span(&c.selection);
        cuts.extend([a, b]);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    for (i, w) in cuts.windows(2).enumerate() {
        let (from, to) = (w[0], w[1]);
        if i == 0 {
            out.extend(carets_at(carets, from, len));
        }
        let selected = carets.iter().position(|c| {
            let (a, b) = span(&c.selection);
            a <= from && to <= b && a < b
        });
        let piece = String::from_utf16_lossy(&units[from as usize..to as usize]);
        out.push(Piece::Text(piece, selected));
        out.extend(carets_at(carets, to, len));
    }
    if cuts.len() == 1 {
        out.extend(carets_at(carets, 0, len));
    }
    out
}

fn carets_at(carets: &[Caret], at: u32, len: u32) -> impl Iterator<Item = Piece> + '_ {
    carets
        .iter()
        .enumerate()
        .filter(move |(_, c)| c.selection.head.min(len) == at)
        .map(|(i, _)| Piece::Caret(i))
}

pub(super) fn overlay(text: &str, carets: &[Caret]) -> Html {
    let pieces = pieces(text, carets);
    html! {
        <>
            { for pieces.into_iter().map(|p| match p {
                Piece::Text(t, None) => html! { <span>{ t }</span> },
                Piece::Text(t, Some(i)) => html! {
                    <span class="doc-sel" style={color_style(carets[i].client, &carets[i].color)}>{ t }</span>
                },
                Piece::Caret(i) => {
                    let c = &carets[i];
                    html! {
                        <span class="doc-caret" data-testid="doc-caret" data-name={c.name.clone()}
                            style={color_style(c.client, &c.color)}>
                            <span class="doc-caret-label">{ c.name.clone() }</span>
                        </span>
                    }
                }
            }) }
            // A trailing newline needs a character after it to take up its line.
            { "\u{200b}" }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caret(client: u64, anchor: u32, head: u32) -> Caret {
        Caret {
            client,
            name: format!("p{client}"),
            color: "#123456".into(),
            selection: Selection { anchor, head },
        }
    }

    fn text(t: &str, sel: Option<usize>) -> Piece {
        Piece::Text(t.into(), sel)
    }

    #[test]
    fn cuts_text_at_carets_and_selections() {
        assert_eq!(pieces("abc", &[]), vec![text("abc", None)]);
        assert_eq!(
            pieces("abc", &[caret(1, 1, 1)]),
            vec![text("a", None), Piece::Caret(0), text("bc", None)]
        );
        // A backwards selection of "b😀" with the caret at its start, and a caret at the end.
        assert_eq!(
            pieces("ab😀c", &[caret(1, 4, 1), caret(2, 5, 5)]),
            vec![
                text("a", None),
                Piece::Caret(0),
                text("b😀", Some(0)),
                text("c", None),
                Piece::Caret(1),
            ]
        );
        assert_eq!(pieces("", &[caret(1, 0, 0)]), vec![Piece::Caret(0)]);
        // Past the end: clamped.
        assert_eq!(
            pieces("a", &[caret(1, 9, 9)]),
            vec![text("a", None), Piece::Caret(0)]
        );
    }
}
