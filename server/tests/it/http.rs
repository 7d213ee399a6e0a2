//! A plain HTTP/1.1 client for the tests of the HTTP endpoints: one request per connection
//! (`Connection: close`), the answer's status, headers and body.

use super::util::WAIT;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The tests' API key (the servers of `api.rs` and the cluster's nodes accept it).
pub const API_KEY: &str = "test-api-key-0123456789";

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// An API refusal's `code` (and that it is `{code, message}` JSON).
    pub fn code(&self) -> String {
        let v = self.json();
        assert!(v["message"].is_string(), "{v}");
        v["code"].as_str().expect("a code").to_owned()
    }
}

/// `method path` with `headers` and `body` (sent as JSON when given); None: no answer.
pub async fn request(
    addr: SocketAddr,
    (method, path): (&str, &str),
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Option<Reply> {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
    let mut ask = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        ask.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            ask.push_str("Content-Type: application/json\r\n");
        }
        ask.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    ask.push_str("\r\n");
    ask.push_str(body.unwrap_or_default());
    tcp.write_all(ask.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut answer))
        .await
        .ok()?
        .ok()?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// `GET path` on `addr`: the status and the body (None: no answer).
pub async fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let reply = request(addr, ("GET", path), &[], None).await?;
    Some((reply.status, reply.body))
}

/// A request to the API with [`API_KEY`].
pub async fn api(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Reply {
    let auth = format!("Bearer {API_KEY}");
    request(addr, (method, path), &[("Authorization", &auth)], body)
        .await
        .unwrap_or_else(|| panic!("{method} {path}: no answer"))
}
