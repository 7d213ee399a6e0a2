//! The WebSocket link to the server: opens `/ws` on the page's origin, says `hello`, turns
//! frames into [`ServerMsg`]s and [`ClientMsg`]s into frames, and reconnects every 2 s.

use futures::channel::mpsc::{unbounded, TryRecvError, UnboundedReceiver, UnboundedSender};
use futures::future::{select, Either};
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message, State as WsState};
use std::time::Duration;
use tandem_shared::{ClientMsg, ServerMsg, PROTOCOL_VERSION};
use yew::platform::{spawn_local, time::sleep};
use yew::Callback;

/// Pause between connection attempts.
const RETRY: Duration = Duration::from_secs(2);
/// Give up on an attempt that neither opens nor fails within this time.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// What the link reports to the page.
#[derive(Debug)]
pub enum NetEvent {
    /// Connected, and `hello` sent.
    Open,
    Message(ServerMsg),
    /// Disconnected (or the attempt failed); a retry follows in [`RETRY`].
    Closed {
        online: bool,
    },
}

/// Start the link. Messages sent through the returned sender go out while connected and are
/// dropped while not (the state re-sends what matters after reconnecting). Dropping the
/// sender stops the link.
pub fn connect(user_id: String, on_event: Callback<NetEvent>) -> UnboundedSender<ClientMsg> {
    let (tx, rx) = unbounded();
    spawn_local(run(ws_url(), user_id, on_event, rx));
    tx
}

/// `ws(s)://<host>/ws` for the page's own origin.
fn ws_url() -> String {
    let location = web_sys::window().expect("no window").location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss:",
        _ => "ws:",
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}//{host}/ws")
}

fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

async fn run(
    url: String,
    user_id: String,
    on_event: Callback<NetEvent>,
    mut outbox: UnboundedReceiver<ClientMsg>,
) {
    loop {
        // Discard what was queued while disconnected; stop once the page dropped the sender.
        loop {
            match outbox.try_recv() {
                Ok(_) => continue,
                Err(TryRecvError::Closed) => return,
                Err(TryRecvError::Empty) => break,
            }
        }
        if let Ok(ws) = WebSocket::open(&url) {
            if session(ws, &user_id, &on_event, &mut outbox).await == Flow::Stop {
                return;
            }
        }
        on_event.emit(NetEvent::Closed { online: online() });
        sleep(RETRY).await;
    }
}

#[derive(PartialEq)]
enum Flow {
    Reconnect,
    Stop,
}

async fn session(
    mut ws: WebSocket,
    user_id: &str,
    on_event: &Callback<NetEvent>,
    outbox: &mut UnboundedReceiver<ClientMsg>,
) -> Flow {
    // The sink waits until the socket is open (or has failed).
    let hello = ClientMsg::Hello {
        protocol_version: PROTOCOL_VERSION,
        user_id: Some(user_id.to_owned()),
    };
    let opened = {
        let send = ws.send(frame(&hello));
        let timeout = sleep(OPEN_TIMEOUT);
        futures::pin_mut!(send, timeout);
        matches!(select(send, timeout).await, Either::Left((Ok(()), _)))
    };
    if !opened || !matches!(ws.state(), WsState::Open) {
        return Flow::Reconnect;
    }
    on_event.emit(NetEvent::Open);

    loop {
        let next = match select(ws.next(), outbox.next()).await {
            Either::Left((frame, _)) => Either::Left(frame),
            Either::Right((msg, _)) => Either::Right(msg),
        };
        match next {
            Either::Left(Some(Ok(Message::Text(text)))) => {
                match serde_json::from_str::<ServerMsg>(&text) {
                    Ok(msg) => on_event.emit(NetEvent::Message(msg)),
                    Err(err) => web_sys::console::warn_1(
                        &format!("tandem: ignoring a frame this client cannot read: {err}").into(),
                    ),
                }
            }
            // Binary frames are not part of the protocol; errors precede the end of stream.
            Either::Left(Some(Ok(Message::Bytes(_)) | Err(_))) => {}
            Either::Left(None) => return Flow::Reconnect,
            Either::Right(Some(msg)) => {
                if ws.send(frame(&msg)).await.is_err() {
                    return Flow::Reconnect;
                }
            }
            Either::Right(None) => return Flow::Stop,
        }
    }
}

fn frame(msg: &ClientMsg) -> Message {
    Message::Text(serde_json::to_string(msg).expect("client messages serialize"))
}
