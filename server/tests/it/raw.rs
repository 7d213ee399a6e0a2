//! Raw HTTP and WebSocket over a plain TCP socket, for what a WebSocket library will not do:
//! HTTP/1.0 handshakes, chosen `Host` headers, floods of control frames, and timing the end
//! of the TCP connection after a close handshake.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// One request (`head` without the final blank line); returns the response's status code
/// and head, and the socket with what followed the head.
pub async fn request(addr: SocketAddr, head: &str) -> (u16, String, TcpStream, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(format!("{head}\r\n\r\n").as_bytes())
        .await
        .expect("write request");
    let mut buf = Vec::new();
    let end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let mut chunk = [0; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("a response in time")
            .expect("read");
        assert!(n > 0, "closed before a response: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {head}"));
    (status, head, stream, buf[end..].to_vec())
}

/// A plain `GET` with these `Host` and extra header lines; the status.
pub async fn get(addr: SocketAddr, path: &str, host: &str, extra: &str) -> u16 {
    let head = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close{extra}");
    request(addr, &head).await.0
}

/// The lines of a WebSocket handshake (after the request line and `Host`).
pub const UPGRADE: &str = "\r\nUpgrade: websocket\r\nConnection: Upgrade\
    \r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13";

/// A WebSocket over a raw socket, masking what it sends as a client must.
pub struct RawWs {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

/// A frame from the server.
#[derive(Debug)]
pub struct RawFrame {
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// The close code of a close frame.
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == OP_CLOSE && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// `payload` as a masked client frame with `opcode` (FIN set).
pub fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// A close frame's payload: the code, then the reason.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    p
}

impl RawWs {
    /// Handshake on `path` with `Host: host` and extra header lines; the status on refusal.
    pub async fn connect(
        addr: SocketAddr,
        path: &str,
        host: &str,
        extra: &str,
    ) -> Result<RawWs, u16> {
        let head = format!("GET {path} HTTP/1.1\r\nHost: {host}{UPGRADE}{extra}");
        let (status, _, stream, buf) = request(addr, &head).await;
        match status {
            101 => Ok(RawWs { stream, buf }),
            other => Err(other),
        }
    }

    /// Handshake on `path` at `addr`, as `Host: addr`.
    pub async fn open(addr: SocketAddr, path: &str) -> RawWs {
        RawWs::connect(addr, path, &addr.to_string(), "")
            .await
            .expect("handshake")
    }

    pub async fn send(&mut self, opcode: u8, payload: &[u8]) {
        self.stream
            .write_all(&frame(opcode, payload))
            .await
            .expect("send");
    }

    /// The next frame, None at the end of the stream (EOF or reset), within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<RawFrame> {
        tokio::time::timeout(wait, self.read_frame())
            .await
            .expect("a frame or the end in time")
    }

    async fn fill(&mut self, n: usize) -> bool {
        while self.buf.len() < n {
            let mut chunk = [0; 16 * 1024];
            match self.stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(k) => self.buf.extend_from_slice(&chunk[..k]),
            }
        }
        true
    }

    async fn read_frame(&mut self) -> Option<RawFrame> {
        if !self.fill(2).await {
            return None;
        }
        let opcode = self.buf[0] & 0x0f;
        let (len, at) = match self.buf[1] & 0x7f {
            126 => {
                if !self.fill(4).await {
                    return None;
                }
                (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
            }
            127 => {
                if !self.fill(10).await {
                    return None;
                }
                let mut n = [0; 8];
                n.copy_from_slice(&self.buf[2..10]);
                (u64::from_be_bytes(n) as usize, 10)
            }
            n => (n as usize, 2),
        };
        if !self.fill(at + len).await {
            return None;
        }
        let payload = self.buf[at..at + len].to_vec();
        self.buf.drain(..at + len);
        Some(RawFrame { opcode, payload })
    }

    /// Read frames until a close frame arrives; returns it (None: the stream ended first).
    pub async fn until_close(&mut self, wait: Duration) -> Option<RawFrame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(f) if f.opcode == OP_CLOSE => return Some(f),
                Some(_) => continue,
                None => return None,
            }
        }
    }

    /// How long until the server ends the TCP connection (read returns EOF or a reset),
    /// ignoring anything it still sends.
    pub async fn time_to_eof(&mut self, wait: Duration) -> Duration {
        let start = tokio::time::Instant::now();
        tokio::time::timeout(wait, async {
            let mut chunk = [0; 4096];
            loop {
                match self.stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => continue,
                }
            }
        })
        .await
        .expect("the server closes the connection in time");
        start.elapsed()
    }
}
