//! Validating what actix-ws hands us: reassembles fragmented messages within a size limit,
//! checks UTF-8 of text as it arrives (fail fast), and maps protocol errors to close codes.
//! Pure; never awaits.

use actix_ws::{CloseCode, CloseReason, Item, Message, ProtocolError};
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

/// A complete message, or a control frame the caller must act on.
#[derive(Debug)]
pub(crate) enum Incoming {
    Text(ByteString),
    Binary(Bytes),
    Ping(Bytes),
    Pong,
    Close(Option<CloseReason>),
}

/// Reassembles continuation frames into whole messages of at most `max` bytes.
pub(crate) struct Assembler {
    max: usize,
    /// `Some(true)` while a fragmented text message is open, `Some(false)` for binary.
    text: Option<bool>,
    buf: BytesMut,
    /// Bytes of `buf` already known to be valid UTF-8 (a partial char may follow).
    checked: usize,
}

fn close(code: CloseCode, why: &str) -> CloseReason {
    CloseReason {
        code,
        description: Some(why.to_owned()),
    }
}

/// The close to send, as the session loops' `break` values want it.
pub(crate) fn reason(code: CloseCode, why: &str) -> Option<CloseReason> {
    Some(close(code, why))
}

/// The close frame to send for an error from the frame decoder.
pub(crate) fn close_for(err: &ProtocolError) -> CloseReason {
    match err {
        ProtocolError::Overflow => close(CloseCode::Size, "message too big"),
        ProtocolError::Io(e) if e.get_ref().is_some_and(|i| i.is::<std::str::Utf8Error>()) => {
            close(CloseCode::Invalid, "invalid UTF-8 in text frame")
        }
        _ => close(CloseCode::Protocol, "protocol error"),
    }
}

impl Assembler {
    pub(crate) fn new(max: usize) -> Self {
        Assembler {
            max,
            text: None,
            buf: BytesMut::new(),
            checked: 0,
        }
    }

    /// Feed one frame; returns a whole message when one is complete, or the close to send.
    pub(crate) fn push(&mut self, msg: Message) -> Result<Option<Incoming>, CloseReason> {
        Ok(Some(match msg {
            Message::Text(t) => {
                self.no_open_message()?;
                Incoming::Text(t)
            }
            Message::Binary(b) => {
                self.no_open_message()?;
                Incoming::Binary(b)
            }
            Message::Ping(b) => Incoming::Ping(b),
            Message::Pong(_) => Incoming::Pong,
            Message::Close(reason) => Incoming::Close(reason),
            Message::Nop => return Ok(None),
            Message::Continuation(item) => return self.continuation(item),
        }))
    }

    fn no_open_message(&self) -> Result<(), CloseReason> {
        match self.text {
            None => Ok(()),
            Some(_) => Err(close(
                CloseCode::Protocol,
                "new message inside a fragmented one",
            )),
        }
    }

    fn continuation(&mut self, item: Item) -> Result<Option<Incoming>, CloseReason> {
        let (bytes, last) = match item {
            Item::FirstText(b) => {
                self.no_open_message()?;
                self.text = Some(true);
                (b, false)
            }
            Item::FirstBinary(b) => {
                self.no_open_message()?;
                self.text = Some(false);
                (b, false)
            }
            Item::Continue(b) => (b, false),
            Item::Last(b) => (b, true),
        };
        let Some(text) = self.text else {
            return Err(close(
                CloseCode::Protocol,
                "continuation without a first frame",
            ));
        };
        if self.buf.len() + bytes.len() > self.max {
            return Err(close(CloseCode::Size, "message too big"));
        }
        self.buf.extend_from_slice(&bytes);
        if text {
            self.check_utf8(last)?;
        }
        if !last {
            return Ok(None);
        }
        self.text = None;
        self.checked = 0;
        let whole = std::mem::take(&mut self.buf).freeze();
        Ok(Some(if text {
            // Validated above; the error arm is unreachable but costs nothing.
            Incoming::Text(
                ByteString::try_from(whole)
                    .map_err(|_| close(CloseCode::Invalid, "invalid UTF-8 in text message"))?,
            )
        } else {
            Incoming::Binary(whole)
        }))
    }

    /// Validate the bytes added since the last check; a character may be cut at the end
    /// unless this is the last fragment.
    fn check_utf8(&mut self, last: bool) -> Result<(), CloseReason> {
        match std::str::from_utf8(&self.buf[self.checked..]) {
            Ok(_) => self.checked = self.buf.len(),
            Err(e) if e.error_len().is_none() && !last => self.checked += e.valid_up_to(),
            Err(_) => return Err(close(CloseCode::Invalid, "invalid UTF-8 in text message")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(a: &mut Assembler, items: Vec<Item>) -> Result<Option<Incoming>, CloseReason> {
        let mut last = Ok(None);
        for item in items {
            last = a.push(Message::Continuation(item));
            if last.is_err() {
                break;
            }
        }
        last
    }

    fn b(s: &[u8]) -> Bytes {
        Bytes::copy_from_slice(s)
    }

    #[test]
    fn reassembles_text_split_inside_a_character() {
        let euro = "€".as_bytes(); // 3 bytes
        let mut a = Assembler::new(100);
        let got = feed(
            &mut a,
            vec![
                Item::FirstText(b(&euro[..1])),
                Item::Continue(b(&euro[1..2])),
                Item::Last(b(&euro[2..])),
            ],
        );
        match got {
            Ok(Some(Incoming::Text(t))) => assert_eq!(&*t, "€"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn invalid_utf8_fails_before_the_last_fragment() {
        let mut a = Assembler::new(100);
        let got = feed(
            &mut a,
            vec![Item::FirstText(b(b"ok")), Item::Continue(b(&[0xff]))],
        );
        assert_eq!(got.unwrap_err().code, CloseCode::Invalid);
    }

    #[test]
    fn truncated_character_at_the_end_is_invalid() {
        let mut a = Assembler::new(100);
        let got = feed(
            &mut a,
            vec![Item::FirstText(b(b"ok")), Item::Last(b(&[0xe2, 0x82]))],
        );
        assert_eq!(got.unwrap_err().code, CloseCode::Invalid);
    }

    #[test]
    fn size_limit_and_ordering_rules() {
        let mut a = Assembler::new(4);
        let got = feed(
            &mut a,
            vec![Item::FirstBinary(b(b"abc")), Item::Continue(b(b"de"))],
        );
        assert_eq!(got.unwrap_err().code, CloseCode::Size);

        let mut a = Assembler::new(100);
        assert_eq!(
            feed(&mut a, vec![Item::Continue(b(b"x"))])
                .unwrap_err()
                .code,
            CloseCode::Protocol
        );

        let mut a = Assembler::new(100);
        a.push(Message::Continuation(Item::FirstBinary(b(b"x"))))
            .unwrap();
        let err = a.push(Message::Text("y".into())).unwrap_err();
        assert_eq!(err.code, CloseCode::Protocol);
    }

    #[test]
    fn control_frames_pass_through_an_open_message() {
        let mut a = Assembler::new(100);
        a.push(Message::Continuation(Item::FirstBinary(b(b"x"))))
            .unwrap();
        assert!(matches!(
            a.push(Message::Ping(b(b"p"))),
            Ok(Some(Incoming::Ping(_)))
        ));
        match feed(&mut a, vec![Item::Last(b(b"y"))]) {
            Ok(Some(Incoming::Binary(bin))) => assert_eq!(&bin[..], b"xy"),
            other => panic!("{other:?}"),
        }
    }
}
