//! The server's one configuration struct, from command-line flags and `TANDEM_*` variables.

use clap::Parser;
use std::{net::SocketAddr, path::PathBuf, time::Duration};

/// Everything the server can be told. `main` parses it; tests build it with [`Config::for_tests`].
#[derive(Parser, Debug, Clone)]
#[command(
    name = "tandem-server",
    version,
    about = "Tandem: real-time rooms over WebSocket"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "TANDEM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for the SQLite file (`tandem.sqlite3`); created if missing.
    #[arg(long, env = "TANDEM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Keep everything in memory instead of SQLite (lost on exit; for benchmarks and tests).
    #[arg(long, env = "TANDEM_MEMORY_STORE")]
    pub memory_store: bool,

    /// Directory of the built client (what `trunk build --release` writes).
    #[arg(long, env = "TANDEM_STATIC_DIR", default_value = "dist")]
    pub static_dir: PathBuf,

    /// Extra origins allowed to open WebSockets (e.g. `https://chat.example.com`). The server's
    /// own origin and localhost origins are always allowed; requests without `Origin` too.
    #[arg(
        long = "allowed-origin",
        env = "TANDEM_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Serve `GET /echo`, a plain WebSocket echo for protocol conformance suites.
    #[arg(long, env = "TANDEM_ECHO")]
    pub echo: bool,

    /// Interval between the server's WebSocket pings, in milliseconds.
    #[arg(long, env = "TANDEM_HEARTBEAT_MS", default_value_t = 5_000)]
    pub heartbeat_ms: u64,

    /// A connection silent for this long (no frame, no pong) is dropped, in milliseconds.
    /// Must be at least twice the heartbeat interval.
    #[arg(long, env = "TANDEM_CLIENT_TIMEOUT_MS", default_value_t = 15_000)]
    pub client_timeout_ms: u64,

    /// Largest room-protocol frame or message accepted, in bytes (close 1009 beyond).
    #[arg(long, env = "TANDEM_MAX_FRAME", default_value_t = tandem_shared::limits::DEFAULT_MAX_FRAME)]
    pub max_frame: usize,

    /// Largest `/echo` message, in bytes.
    #[arg(long, env = "TANDEM_ECHO_MAX_MESSAGE", default_value_t = 16 * 1024 * 1024)]
    pub echo_max_message: usize,

    /// Messages a connection may send in one burst before rate limiting starts.
    #[arg(long, env = "TANDEM_RATE_BURST", default_value_t = 100)]
    pub rate_burst: u32,

    /// Sustained messages per second per connection; 0 switches rate limiting off.
    #[arg(long, env = "TANDEM_RATE_PER_SEC", default_value_t = 20)]
    pub rate_per_sec: u32,

    /// Frames queued for one connection before it is closed as a slow consumer.
    #[arg(long, env = "TANDEM_OUTBOX", default_value_t = 512)]
    pub outbox_capacity: usize,

    /// A room with no members is unloaded from memory after this long, in milliseconds.
    #[arg(long, env = "TANDEM_ROOM_IDLE_MS", default_value_t = 30_000)]
    pub room_idle_ms: u64,

    /// Largest shared document (a room's `/yjs` document), in bytes of its encoded state. An
    /// update that would grow it beyond this is refused and its connection closed (4413).
    #[arg(long, env = "TANDEM_DOC_MAX_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub doc_max_bytes: usize,

    /// Largest single `/yjs` message (a document update or an awareness update), in bytes;
    /// a bigger one closes the connection with 1009.
    #[arg(long, env = "TANDEM_DOC_MAX_UPDATE", default_value_t = 1024 * 1024)]
    pub doc_max_update: usize,

    /// A document's update log is folded into its snapshot once it holds this many updates
    /// (or as many bytes as `--doc-max-update`, whichever comes first).
    #[arg(long, env = "TANDEM_DOC_COMPACT_UPDATES", default_value_t = 500)]
    pub doc_compact_updates: usize,

    /// HTTP worker threads (0: one per CPU core).
    #[arg(long, env = "TANDEM_WORKERS", default_value_t = 0)]
    pub workers: usize,

    /// How long shutdown waits for connections and rooms to finish, in milliseconds.
    #[arg(long, env = "TANDEM_SHUTDOWN_TIMEOUT_MS", default_value_t = 5_000)]
    pub shutdown_timeout_ms: u64,
}

impl Config {
    /// Defaults as `main` would have them, with no flags and no environment.
    pub fn defaults() -> Self {
        Config::parse_from(["tandem-server"])
    }

    /// Defaults for tests: the given data directory, a short heartbeat, echo on, one worker.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            data_dir: data_dir.into(),
            echo: true,
            heartbeat_ms: 200,
            client_timeout_ms: 1_000,
            workers: 1,
            shutdown_timeout_ms: 3_000,
            ..Config::defaults()
        }
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms)
    }

    pub fn client_timeout(&self) -> Duration {
        Duration::from_millis(self.client_timeout_ms)
    }

    pub fn room_idle(&self) -> Duration {
        Duration::from_millis(self.room_idle_ms)
    }

    pub(crate) fn doc_limits(&self) -> crate::docs::Limits {
        crate::docs::Limits {
            max_doc: self.doc_max_bytes,
            max_update: self.doc_max_update,
            compact_updates: self.doc_compact_updates,
            compact_bytes: self.doc_max_update,
        }
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_millis(self.shutdown_timeout_ms)
    }

    /// Refuse settings that cannot work together.
    pub fn validate(&self) -> Result<(), crate::Error> {
        let bad = |what: &str| Err(crate::Error::Config(what.to_owned()));
        if self.heartbeat_ms == 0 {
            return bad("--heartbeat-ms must be positive");
        }
        if self.client_timeout_ms < 2 * self.heartbeat_ms {
            return bad("--client-timeout-ms must be at least twice --heartbeat-ms");
        }
        if self.outbox_capacity == 0 {
            return bad("--outbox-capacity must be positive");
        }
        if self.max_frame < 1024 {
            return bad("--max-frame must be at least 1024 bytes");
        }
        if self.doc_max_update < 1024 {
            return bad("--doc-max-update must be at least 1024 bytes");
        }
        if self.doc_max_bytes < self.doc_max_update {
            return bad("--doc-max-bytes must be at least --doc-max-update");
        }
        if self.doc_compact_updates == 0 {
            return bad("--doc-compact-updates must be positive");
        }
        Ok(())
    }
}
