//! A room's confirmed messages: kept sorted by `seq` with no duplicates, whatever order and
//! however often the server's history replies and live messages deliver them (a catch-up
//! after a reconnect overlaps what was seen live; a retried chat is echoed with the original).

use tandem_shared::ChatMessage;

/// Messages kept per room; older ones are dropped from the front (the server keeps them).
pub const MAX_KEPT: usize = 1000;

/// Insert `msg` at its place by `seq` unless a message with that `seq` is already there.
/// Returns whether it was new.
pub fn insert(list: &mut Vec<ChatMessage>, msg: ChatMessage) -> bool {
    // Fast path: live messages arrive in order.
    if list.last().is_none_or(|last| last.seq < msg.seq) {
        list.push(msg);
    } else {
        match list.binary_search_by_key(&msg.seq, |m| m.seq) {
            Ok(_) => return false,
            Err(at) => list.insert(at, msg),
        }
    }
    if list.len() > MAX_KEPT {
        list.drain(..list.len() - MAX_KEPT);
    }
    true
}

/// Insert every message of `incoming`; returns the ones that were new, in input order.
pub fn merge(
    list: &mut Vec<ChatMessage>,
    incoming: impl IntoIterator<Item = ChatMessage>,
) -> Vec<ChatMessage> {
    let mut added = Vec::new();
    for msg in incoming {
        if insert(list, msg.clone()) {
            added.push(msg);
        }
    }
    added
}

/// The highest `seq` held, which is what a re-join asks to continue after.
pub fn last_seq(list: &[ChatMessage]) -> Option<u64> {
    list.last().map(|m| m.seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_shared::Member;

    fn msg(seq: u64) -> ChatMessage {
        ChatMessage {
            room: "r".into(),
            seq,
            sender: Member {
                id: "u".into(),
                name: "U".into(),
            },
            text: format!("m{seq}"),
            ts: seq,
            client_id: None,
        }
    }

    fn seqs(list: &[ChatMessage]) -> Vec<u64> {
        list.iter().map(|m| m.seq).collect()
    }

    #[test]
    fn out_of_order_and_duplicate_inputs_give_a_sorted_unique_list() {
        let mut list = Vec::new();
        let added = merge(
            &mut list,
            [5, 3, 9, 3, 1, 5, 2, 8, 9, 4].into_iter().map(msg),
        );
        assert_eq!(seqs(&list), [1, 2, 3, 4, 5, 8, 9]);
        assert_eq!(seqs(&added), [5, 3, 9, 1, 2, 8, 4]);
        // A catch-up overlapping what is already there adds only the missing ones.
        let added = merge(&mut list, (4..=12).map(msg));
        assert_eq!(seqs(&added), [6, 7, 10, 11, 12]);
        assert_eq!(seqs(&list), (1..=12).collect::<Vec<_>>());
        assert_eq!(last_seq(&list), Some(12));
        assert_eq!(last_seq(&[]), None);
    }

    #[test]
    fn a_repeated_echo_is_not_inserted_twice() {
        let mut list = vec![msg(1), msg(2)];
        let mut echo = msg(3);
        echo.client_id = Some("c1".into());
        assert!(insert(&mut list, echo.clone()));
        // The server answers a retry of c1 with the original message: same seq.
        assert!(!insert(&mut list, echo));
        assert_eq!(seqs(&list), [1, 2, 3]);
    }

    #[test]
    fn keeps_at_most_max_kept_newest() {
        let mut list = Vec::new();
        merge(&mut list, (1..=MAX_KEPT as u64 + 5).map(msg));
        assert_eq!(list.len(), MAX_KEPT);
        assert_eq!(list[0].seq, 6);
        assert_eq!(last_seq(&list), Some(MAX_KEPT as u64 + 5));
    }
}
