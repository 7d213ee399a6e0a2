//! A TCP proxy between one browser and the server, to cut that browser's network.
//!
//! The browser opens the page through the proxy's port, so its WebSocket goes through it too.
//! [`Proxy::cut`] drops every proxied connection and closes new ones at once (the browser
//! sees its socket close and its reconnection attempts fail); [`Proxy::restore`] forwards
//! again.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
};
use tokio::{
    net::{TcpListener, TcpStream},
    task::{AbortHandle, JoinHandle},
};

pub struct Proxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
}

/// Whether traffic flows, and the connections being forwarded. A std `Mutex`: it is held
/// only to flip the flag or to register or abort tasks, never across an await, and checking
/// the flag and registering under one lock means no connection slips past a cut.
struct State {
    open: bool,
    conns: Vec<AbortHandle>,
}

impl Proxy {
    /// Listen on `127.0.0.1:0` and forward to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let state = Arc::new(Mutex::new(State {
            open: true,
            conns: Vec::new(),
        }));
        let accept = tokio::spawn(accept_loop(listener, upstream, state.clone()));
        Proxy {
            addr,
            state,
            accept,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT{path}` through the proxy.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Drop every forwarded connection and refuse new ones; returns how many were dropped.
    pub fn cut(&self) -> usize {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.open = false;
        let live = state.conns.iter().filter(|h| !h.is_finished()).count();
        for conn in state.conns.drain(..) {
            conn.abort();
        }
        live
    }

    /// Forward again.
    pub fn restore(&self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .open = true;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, state: Arc<Mutex<State>>) {
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            continue;
        };
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        if !state.open {
            // Cut: close at once, before anything is read or forwarded.
            drop(inbound);
            continue;
        }
        state.conns.retain(|h| !h.is_finished());
        let task = tokio::spawn(forward(inbound, upstream));
        state.conns.push(task.abort_handle());
    }
}

async fn forward(mut inbound: TcpStream, upstream: SocketAddr) {
    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
}
