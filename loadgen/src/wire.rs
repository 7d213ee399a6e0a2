//! `RawWs`: a minimal WebSocket client over a plain `TcpStream`, the generator's hot path.
//! Thousands of subscribers on one core read hundreds of thousands of frames a second, so a
//! connection is one buffer and a parse of the frame headers in it (servers send small,
//! unfragmented, unmasked frames); pings are answered, every other control frame ends the
//! connection. The handshake is written by hand so nothing the server sends after its 101
//! (Tandem's `welcome`) is lost between an HTTP client and this reader.

use std::{fmt, io, ops::Range};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// What went wrong with a connection; `io` keeps the OS error for the limit probe.
#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    /// The handshake was answered with something other than 101.
    Refused(String),
    /// The server closed the connection (a close frame with this code, or none).
    Closed(Option<u16>),
    /// The server's bytes are not WebSocket frames this reader understands.
    Protocol(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Refused(status) => write!(f, "handshake refused: {status}"),
            Error::Closed(Some(code)) => write!(f, "closed by the server ({code})"),
            Error::Closed(None) => write!(f, "closed by the server"),
            Error::Protocol(what) => write!(f, "protocol: {what}"),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Client frames must be masked; the key need not be secret for a load generator.
const MASK: [u8; 4] = [0x5a, 0x17, 0xc3, 0x8e];

pub struct RawWs {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Unparsed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Frames to write (queued texts, pongs), sent by `flush`.
    out: Vec<u8>,
}

impl RawWs {
    /// Connect to `ws://HOST:PORT/PATH` and complete the handshake; `buf` is the read
    /// buffer's initial size (it grows for a larger frame).
    pub async fn connect(url: &str, buf: usize) -> Result<RawWs> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or(Error::Protocol("only ws:// URLs"))?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let stream = TcpStream::connect(host).await?;
        stream.set_nodelay(true)?;
        let mut ws = RawWs {
            stream,
            buf: vec![0; buf.max(1024)],
            start: 0,
            end: 0,
            out: Vec::new(),
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        ws.stream.write_all(request.as_bytes()).await?;
        loop {
            ws.read_some().await?;
            let got = &ws.buf[..ws.end];
            if let Some(at) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                let status = String::from_utf8_lossy(&got[..got.len().min(at)]);
                let status = status.lines().next().unwrap_or("").to_owned();
                if !status.starts_with("HTTP/1.1 101") {
                    return Err(Error::Refused(status));
                }
                ws.start = at + 4;
                return Ok(ws);
            }
            if ws.end > 16 * 1024 {
                return Err(Error::Protocol("handshake response too long"));
            }
        }
    }

    /// One `read` into the buffer. Cancel-safe: bytes read are kept, none are half-read.
    pub async fn read_some(&mut self) -> Result<()> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.buf.len() - self.end < 512 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
            if self.end == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        match self.stream.read(&mut self.buf[self.end..]).await? {
            0 => Err(Error::Closed(None)),
            n => {
                self.end += n;
                Ok(())
            }
        }
    }

    /// The next complete frame in the buffer: its opcode and payload.
    fn next_frame(&mut self) -> Result<Option<(u8, Range<usize>)>> {
        let b = &self.buf[self.start..self.end];
        if b.len() < 2 {
            return Ok(None);
        }
        if b[1] & 0x80 != 0 {
            return Err(Error::Protocol("masked frame from the server"));
        }
        if b[0] & 0x80 == 0 {
            return Err(Error::Protocol("fragmented frame"));
        }
        let (len, head) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
            127 if b.len() >= 10 => {
                let mut n = [0; 8];
                n.copy_from_slice(&b[2..10]);
                (u64::from_be_bytes(n) as usize, 10)
            }
            126 | 127 => return Ok(None),
            n => (n as usize, 2),
        };
        if b.len() < head + len {
            return Ok(None);
        }
        let payload = self.start + head..self.start + head + len;
        self.start += head + len;
        Ok(Some((b[0] & 0x0f, payload)))
    }

    /// Handle every complete frame in the buffer: texts go to `on_text`, pings are queued
    /// for `flush`; a close frame (or anything unexpected) ends the connection.
    pub fn frames(&mut self, mut on_text: impl FnMut(&[u8])) -> Result<()> {
        while let Some((op, payload)) = self.next_frame()? {
            match op {
                0x1 => on_text(&self.buf[payload]),
                0x2 | 0xa => {}
                0x9 => {
                    let ping = self.buf[payload].to_vec();
                    self.push(0xa, &ping);
                }
                0x8 => {
                    let p = &self.buf[payload];
                    let code = (p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]]));
                    return Err(Error::Closed(code));
                }
                _ => return Err(Error::Protocol("unknown opcode")),
            }
        }
        Ok(())
    }

    /// Read once, handle the frames, answer pings.
    pub async fn pump(&mut self, on_text: impl FnMut(&[u8])) -> Result<()> {
        self.read_some().await?;
        self.frames(on_text)?;
        self.flush().await
    }

    /// Queue a frame (masked, as a client must) for the next `flush`.
    fn push(&mut self, op: u8, payload: &[u8]) {
        self.out.push(0x80 | op);
        match payload.len() {
            n if n < 126 => self.out.push(0x80 | n as u8),
            n if n <= u16::MAX as usize => {
                self.out.push(0x80 | 126);
                self.out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                self.out.push(0x80 | 127);
                self.out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        self.out.extend_from_slice(&MASK);
        let masked = payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]);
        self.out.extend(masked);
    }

    /// Queue a text frame for the next `flush`.
    pub fn push_text(&mut self, text: &[u8]) {
        self.push(0x1, text);
    }

    /// Write every queued frame.
    pub async fn flush(&mut self) -> Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Send a close frame (1000) and drop the connection without waiting for the answer.
    pub async fn close(mut self) {
        self.push(0x8, &1000u16.to_be_bytes());
        let _ = self.flush().await;
    }
}
