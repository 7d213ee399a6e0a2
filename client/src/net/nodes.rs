//! The cluster's nodes, where sockets go when theirs stops answering: the list the server
//! names in `welcome` (its nodes' WebSocket origins), kept for the page's lifetime. One
//! list for every socket of the page: the chat's and each document's.

use std::cell::RefCell;

thread_local! {
    static NODES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The nodes the server named (replacing what was known).
pub fn set(nodes: Vec<String>) {
    NODES.with(|n| *n.borrow_mut() = nodes);
}

/// Where to try `url`, in order: itself, then the same path on every other node.
pub fn candidates(url: &str) -> Vec<String> {
    NODES.with(|n| candidates_among(url, &n.borrow()))
}

fn candidates_among(url: &str, nodes: &[String]) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    for node in nodes {
        let moved = rebase(url, node);
        if !out.contains(&moved) {
            out.push(moved);
        }
    }
    out
}

/// `url` with its scheme and authority replaced by `origin`'s (`ws://h:1/ws?x` on
/// `wss://n2` is `wss://n2/ws?x`).
pub fn rebase(url: &str, origin: &str) -> String {
    let rest = url
        .split_once("//")
        .map_or("", |(_, after)| after.find('/').map_or("", |i| &after[i..]));
    format!("{}{rest}", origin.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_tries_its_own_node_then_the_others_on_the_same_path() {
        assert_eq!(
            rebase("ws://a:1/yjs/r?token=t", "wss://b.example"),
            "wss://b.example/yjs/r?token=t"
        );
        assert_eq!(rebase("ws://a:1", "ws://b:2/"), "ws://b:2");
        let nodes = ["ws://a:1".to_owned(), "ws://b:2".to_owned()];
        assert_eq!(
            candidates_among("ws://a:1/ws", &nodes),
            ["ws://a:1/ws", "ws://b:2/ws"],
            "its own node once"
        );
        assert_eq!(candidates_among("ws://a:1/ws", &[]), ["ws://a:1/ws"]);
    }
}
