//! A crowd beside the browser: plain WebSocket members speaking the JSON protocol (`welcome`,
//! `hello`, `join`), each in a task of its own that keeps reading (so it answers the
//! server's pings) until told to chat or to leave.

use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tandem_shared::{ClientMsg, ServerMsg, PROTOCOL_VERSION};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a member may take to connect and be in the room.
const JOIN_WITHIN: Duration = Duration::from_secs(20);

/// One member of the crowd.
pub struct Member {
    pub id: String,
    pub name: String,
    cmds: mpsc::UnboundedSender<Cmd>,
    task: JoinHandle<()>,
}

enum Cmd {
    Chat(String),
    Leave,
}

impl Member {
    /// Post `text` to the room.
    pub fn chat(&self, text: &str) {
        let _ = self.cmds.send(Cmd::Chat(text.to_owned()));
    }

    /// Close the connection (a close frame, then the socket), without waiting.
    pub fn leave(&self) {
        let _ = self.cmds.send(Cmd::Leave);
    }

    /// Wait until the connection is closed.
    pub async fn gone(self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }
}

/// `n` members named `Member 001`… joined to `room`, all at once; returns once every one
/// has its `joined`. The first one's chat messages go to `heard`.
pub async fn join(
    url: &str,
    room: &str,
    n: usize,
    heard: mpsc::UnboundedSender<String>,
) -> Vec<Member> {
    let mut starting = Vec::new();
    for i in 1..=n {
        let name = format!("Member {i:03}");
        let (ready_tx, ready) = oneshot::channel();
        let (cmds, cmd_rx) = mpsc::unbounded_channel();
        let heard = (i == 1).then(|| heard.clone());
        let task = tokio::spawn(member(
            url.to_owned(),
            room.to_owned(),
            name.clone(),
            ready_tx,
            cmd_rx,
            heard,
        ));
        starting.push((name, ready, cmds, task));
    }
    let mut crowd = Vec::new();
    for (name, ready, cmds, task) in starting {
        let id = tokio::time::timeout(JOIN_WITHIN, ready)
            .await
            .unwrap_or_else(|_| panic!("{name}: not in the room within {JOIN_WITHIN:?}"))
            .unwrap_or_else(|_| panic!("{name}: failed to join (see its panic above)"));
        crowd.push(Member {
            id,
            name,
            cmds,
            task,
        });
    }
    crowd
}

async fn member(
    url: String,
    room: String,
    name: String,
    ready: oneshot::Sender<String>,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
    heard: Option<mpsc::UnboundedSender<String>>,
) {
    let (mut ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .unwrap_or_else(|e| panic!("{name}: connect to {url}: {e}"));
    let mut id = match recv(&mut ws, &name).await {
        ServerMsg::Welcome { user_id, .. } => user_id,
        other => panic!("{name}: expected welcome, got {other:?}"),
    };
    let hello = ClientMsg::Hello {
        protocol_version: PROTOCOL_VERSION,
        token: None,
        jwt: None,
    };
    send(&mut ws, &hello).await;
    let join = ClientMsg::Join {
        room: room.clone(),
        name: name.clone(),
        since: None,
        invite: None,
    };
    send(&mut ws, &join).await;
    loop {
        match recv(&mut ws, &name).await {
            ServerMsg::Hello { user_id, .. } => id = user_id,
            ServerMsg::Joined { .. } => break,
            ServerMsg::Error { code, message, .. } => {
                panic!("{name}: join refused: {code:?} {message}")
            }
            _ => {}
        }
    }
    let _ = ready.send(id);
    let mut sent = 0;
    loop {
        tokio::select! {
            cmd = cmds.recv() => match cmd {
                Some(Cmd::Chat(text)) => {
                    sent += 1;
                    let chat = ClientMsg::Chat {
                        room: room.clone(),
                        text,
                        client_id: Some(format!("{}-{sent}", name.replace(' ', "-"))),
                    };
                    send(&mut ws, &chat).await;
                }
                Some(Cmd::Leave) | None => {
                    let _ = ws.close(None).await;
                    return;
                }
            },
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerMsg>(&text) {
                    Ok(ServerMsg::Chat(m)) => {
                        if let Some(heard) = &heard {
                            let _ = heard.send(m.text);
                        }
                    }
                    Ok(ServerMsg::Error { code, message, .. }) => {
                        eprintln!("{name}: error {code:?}: {message}")
                    }
                    _ => {}
                },
                Some(Ok(Message::Close(frame))) => {
                    eprintln!("{name}: closed by the server: {frame:?}");
                    return;
                }
                // Pings are answered by tungstenite as it reads.
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    eprintln!("{name}: {e}");
                    return;
                }
                None => return,
            },
        }
    }
}

async fn send(ws: &mut Ws, msg: &ClientMsg) {
    // unwrap: a `ClientMsg` always encodes.
    let json = serde_json::to_string(msg).unwrap();
    ws.send(Message::text(json)).await.expect("send");
}

/// The next message from the server (pings and pongs skipped).
async fn recv(ws: &mut Ws, who: &str) -> ServerMsg {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{who}: undecodable {text}: {e}"))
            }
            Some(Ok(Message::Close(frame))) => panic!("{who}: closed by the server: {frame:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("{who}: {e}"),
            None => panic!("{who}: the connection ended"),
        }
    }
}
