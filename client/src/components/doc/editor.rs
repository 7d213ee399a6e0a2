//! The document editor's DOM, for the pane: read and restore the textarea's selection,
//! show a new text without losing the scroll position, keep the caret overlay exactly over
//! it, and recognise the undo and redo keys.

use crate::model::doc::Selection;
use web_sys::{HtmlElement, HtmlTextAreaElement, KeyboardEvent};

/// The editor's selection (UTF-16 units, `head` where the caret is).
pub(super) fn selection(el: &HtmlTextAreaElement) -> Option<Selection> {
    let start = el.selection_start().ok()??;
    let end = el.selection_end().ok()??;
    let backward = el.selection_direction().ok().flatten().as_deref() == Some("backward");
    Some(if backward {
        Selection {
            anchor: end,
            head: start,
        }
    } else {
        Selection {
            anchor: start,
            head: end,
        }
    })
}

/// Show `text` in the editor, keeping its scroll position, with `selection` restored.
pub(super) fn show(el: &HtmlTextAreaElement, text: &str, selection: Option<Selection>) {
    let top = el.scroll_top();
    el.set_value(text);
    if let Some(s) = selection {
        let (start, end) = (s.anchor.min(s.head), s.anchor.max(s.head));
        let direction = if s.head < s.anchor {
            "backward"
        } else {
            "forward"
        };
        let _ = el.set_selection_range_with_direction(start, end, direction);
    }
    el.set_scroll_top(top);
}

/// Keep the caret overlay exactly over the editor's text area (its width excludes the
/// editor's scrollbar, so both wrap lines alike) and scrolled with it.
pub(super) fn fit_overlay(el: &HtmlTextAreaElement, overlay: &HtmlElement) {
    let style = overlay.style();
    let _ = style.set_property("width", &format!("{}px", el.client_width()));
    let _ = style.set_property("height", &format!("{}px", el.client_height()));
    overlay.set_scroll_top(el.scroll_top());
}

pub(super) fn is_focused(el: &HtmlTextAreaElement) -> bool {
    let active = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element());
    active.is_some_and(|a| a == ***el)
}

/// What a key press asks of the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryKey {
    Undo,
    Redo,
}

/// Ctrl/Cmd+Z undoes; Ctrl/Cmd+Shift+Z and Ctrl+Y redo.
pub(super) fn history_key(e: &KeyboardEvent) -> Option<HistoryKey> {
    history_key_of(
        &e.key(),
        e.ctrl_key(),
        e.meta_key(),
        e.shift_key(),
        e.alt_key(),
    )
}

fn history_key_of(key: &str, ctrl: bool, meta: bool, shift: bool, alt: bool) -> Option<HistoryKey> {
    if !(ctrl || meta) || alt {
        return None;
    }
    match (key.to_ascii_lowercase().as_str(), shift) {
        ("z", false) => Some(HistoryKey::Undo),
        ("z", true) => Some(HistoryKey::Redo),
        ("y", false) if ctrl => Some(HistoryKey::Redo),
        _ => None,
    }
}

/// The `inputType` of a `beforeinput` from the browser's own undo (the Edit menu, the
/// context menu, a shake…).
pub(super) fn history_input(input_type: &str) -> Option<HistoryKey> {
    match input_type {
        "historyUndo" => Some(HistoryKey::Undo),
        "historyRedo" => Some(HistoryKey::Redo),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_and_redo_keys() {
        use HistoryKey::*;
        assert_eq!(history_key_of("z", true, false, false, false), Some(Undo));
        assert_eq!(history_key_of("z", false, true, false, false), Some(Undo));
        assert_eq!(history_key_of("Z", true, false, true, false), Some(Redo));
        assert_eq!(history_key_of("Z", false, true, true, false), Some(Redo));
        assert_eq!(history_key_of("y", true, false, false, false), Some(Redo));
        assert_eq!(history_key_of("y", false, true, false, false), None);
        assert_eq!(history_key_of("z", false, false, false, false), None);
        assert_eq!(history_key_of("z", true, false, false, true), None);
        assert_eq!(history_key_of("a", true, false, false, false), None);
        assert_eq!(history_input("historyUndo"), Some(Undo));
        assert_eq!(history_input("insertText"), None);
    }
}
