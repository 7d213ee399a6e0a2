//! WebSocket frames as they go on the wire, encoded once by whoever queues them: frames from
//! a server are not masked (RFC 6455 §5.1), so the bytes of a broadcast are the same for
//! every recipient and each outbox gets a reference-counted copy. Pure; never awaits.

use actix_http::ws::{OpCode, Parser};
use bytes::{Bytes, BytesMut};

/// One or more complete server-to-client WebSocket frames.
pub type Wire = Bytes;

fn frame(op: OpCode, payload: &[u8]) -> Wire {
    let mut buf = BytesMut::with_capacity(payload.len() + 10);
    Parser::write_message(&mut buf, payload, op, true, false);
    buf.freeze()
}

/// A text frame (a room-protocol message).
pub fn text(payload: &str) -> Wire {
    frame(OpCode::Text, payload.as_bytes())
}

/// A binary frame (a y-protocols message).
pub fn binary(payload: &[u8]) -> Wire {
    frame(OpCode::Binary, payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parse as a client does: it expects unmasked frames from a server.
    fn parse(wire: &[u8]) -> (OpCode, Vec<u8>) {
        let mut buf = BytesMut::from(wire);
        let (fin, op, payload) = Parser::parse(&mut buf, false, usize::MAX)
            .unwrap()
            .expect("a whole frame");
        assert!(fin && buf.is_empty());
        (op, payload.map_or_else(Vec::new, |p| p.to_vec()))
    }

    #[test]
    fn frames_parse_as_a_client_parses_them() {
        for len in [0, 5, 125, 126, 65_535, 65_536, 200_000] {
            let text_in = "é".repeat(len / 2);
            assert_eq!(parse(&text(&text_in)), (OpCode::Text, text_in.into_bytes()));
        }
        assert_eq!(parse(&binary(&[1, 2, 3])), (OpCode::Binary, vec![1, 2, 3]));
    }
}
