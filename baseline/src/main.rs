//! `tandem-baseline`: the naive actix-ws broadcaster `cargo xtask bench` measures Tandem
//! against. Every connection's `Session` is in one shared list; each text message received
//! is sent to every connection in the list (its sender included), awaiting each
//! `session.text` before the next. No protocol, no storage, no limits. Listens on the
//! address given (default `127.0.0.1:0`) and prints its URL as the first line on stdout.

use actix_web::{rt, web, App, HttpRequest, HttpResponse, HttpServer};
use actix_ws::{Message, Session};
use std::{
    io::Write,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

/// Every open connection, by id. A std `Mutex`: it is held only to copy or edit the list,
/// never across an await.
#[derive(Default)]
struct Everyone {
    next: AtomicU64,
    sessions: Mutex<Vec<(u64, Session)>>,
}

async fn ws(
    req: HttpRequest,
    body: web::Payload,
    all: web::Data<Everyone>,
) -> actix_web::Result<HttpResponse> {
    let (response, mut session, mut stream) = actix_ws::handle(&req, body)?;
    let id = all.next.fetch_add(1, Ordering::Relaxed);
    // unwrap (here and below): the lock is never held across a panic.
    all.sessions.lock().unwrap().push((id, session.clone()));
    rt::spawn(async move {
        while let Some(Ok(msg)) = stream.recv().await {
            match msg {
                Message::Text(text) => {
                    let recipients: Vec<Session> = all
                        .sessions
                        .lock()
                        .unwrap()
                        .iter()
                        .map(|(_, s)| s.clone())
                        .collect();
                    for mut recipient in recipients {
                        let _ = recipient.text(text.clone()).await;
                    }
                }
                Message::Ping(bytes) => {
                    let _ = session.pong(&bytes).await;
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
        all.sessions.lock().unwrap().retain(|(i, _)| *i != id);
        let _ = session.close(None).await;
    });
    Ok(response)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let all = web::Data::new(Everyone::default());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(all.clone())
            .route("/ws", web::get().to(ws))
    })
    .shutdown_timeout(1)
    .bind(listen)?;
    for addr in server.addrs() {
        println!("tandem-baseline listening on http://{addr}/");
    }
    std::io::stdout().flush()?;
    server.run().await
}
