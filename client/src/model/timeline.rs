//! A room's confirmed messages: kept sorted by `seq` with no duplicates, whatever order and
//! however often the server's history replies, scrollback pages and live messages deliver
//! them (a catch-up after a reconnect overlaps what was seen live; a retried chat is echoed
//! with the original).

use std::rc::Rc;
use tandem_shared::ChatMessage;

/// Messages kept per room; beyond this the oldest are dropped when new ones arrive at the
/// end (the server keeps them; scrolling back fetches them again).
pub const MAX_KEPT: usize = 10_000;

/// Insert `msg` at its place by `seq` unless a message with that `seq` is already there.
/// Returns whether it was new.
pub fn insert(list: &mut Vec<Rc<ChatMessage>>, msg: Rc<ChatMessage>) -> bool {
    // Fast path: live messages arrive in order.
    if list.last().is_none_or(|last| last.seq < msg.seq) {
        list.push(msg);
        return true;
    }
    match list.binary_search_by_key(&msg.seq, |m| m.seq) {
        Ok(_) => false,
        Err(at) => {
            list.insert(at, msg);
            true
        }
    }
}

/// The highest `seq` held, which is what a re-join asks to continue after.
pub fn last_seq(list: &[Rc<ChatMessage>]) -> Option<u64> {
    list.last().map(|m| m.seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_shared::Member;

    fn msg(seq: u64) -> Rc<ChatMessage> {
        Rc::new(ChatMessage {
            room: "r".into(),
            seq,
            sender: Member {
                id: "u".into(),
                name: "U".into(),
                role: None,
            },
            text: format!("m{seq}"),
            ts: seq,
            client_id: None,
        })
    }

    fn seqs(list: &[Rc<ChatMessage>]) -> Vec<u64> {
        list.iter().map(|m| m.seq).collect()
    }

    fn merge(list: &mut Vec<Rc<ChatMessage>>, seqs: impl IntoIterator<Item = u64>) -> Vec<u64> {
        seqs.into_iter().filter(|&s| insert(list, msg(s))).collect()
    }

    #[test]
    fn out_of_order_and_duplicate_inputs_give_a_sorted_unique_list() {
        let mut list = Vec::new();
        let added = merge(&mut list, [5, 3, 9, 3, 1, 5, 2, 8, 9, 4]);
        assert_eq!(seqs(&list), [1, 2, 3, 4, 5, 8, 9]);
        assert_eq!(added, [5, 3, 9, 1, 2, 8, 4]);
        // A catch-up overlapping what is already there adds only the missing ones.
        assert_eq!(merge(&mut list, 4..=12), [6, 7, 10, 11, 12]);
        assert_eq!(seqs(&list), (1..=12).collect::<Vec<_>>());
        assert_eq!(last_seq(&list), Some(12));
        assert_eq!(last_seq(&[]), None);
    }

    #[test]
    fn older_pages_go_in_front_without_duplicates() {
        let mut list = Vec::new();
        merge(&mut list, 201..=300);
        // Pages overlapping each other and what is held.
        assert_eq!(merge(&mut list, 101..=210).len(), 100);
        assert_eq!(merge(&mut list, 1..=101).len(), 100);
        assert_eq!(seqs(&list), (1..=300).collect::<Vec<_>>());
    }

    #[test]
    fn a_repeated_echo_is_not_inserted_twice() {
        let mut list = vec![msg(1), msg(2)];
        let echo = msg(3);
        assert!(insert(&mut list, echo.clone()));
        // The server answers a retry with the original message: same seq.
        assert!(!insert(&mut list, echo));
        assert_eq!(seqs(&list), [1, 2, 3]);
    }
}
