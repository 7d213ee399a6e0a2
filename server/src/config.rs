//! The server's one configuration struct, from command-line flags and `TANDEM_*` variables.

use clap::Parser;
use std::{net::SocketAddr, path::PathBuf, time::Duration};

/// How log lines are written (`--log-format`).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

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

    /// Cluster mode: Postgres as the system of record (chat history, seq counters, rooms'
    /// rules, documents) instead of SQLite, e.g. `postgres://tandem@db/tandem`. Migrations
    /// run at start.
    #[arg(long, env = "TANDEM_POSTGRES_URL", hide_env_values = true)]
    pub postgres: Option<String>,

    /// Connections in this node's Postgres pool.
    #[arg(long, env = "TANDEM_POSTGRES_POOL", default_value_t = 16)]
    pub postgres_pool: u32,

    /// Cluster mode: Redis between the nodes (fan-out of chat, presence, typing, document
    /// updates and awareness; nodes' liveness), e.g. `redis://cache:6379/`. Needs
    /// `--postgres`.
    #[arg(long, env = "TANDEM_REDIS_URL", hide_env_values = true)]
    pub redis: Option<String>,

    /// Cluster mode: the public URL of every node (this one too), e.g.
    /// `https://n1.example.com`; repeat the flag or separate with commas. The page is told
    /// them and moves its sockets to another when its node stops answering (their origins
    /// are allowed like `--allowed-origin`, and in the page's `connect-src`).
    #[arg(long = "node-url", env = "TANDEM_NODE_URLS", value_delimiter = ',')]
    pub node_urls: Vec<String>,

    /// Cluster mode: a node not heard from for this long is dead and its members leave, in
    /// milliseconds (heartbeats go out three times as often).
    #[arg(long, env = "TANDEM_NODE_TTL_MS", default_value_t = 3_000)]
    pub node_ttl_ms: u64,

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

    /// `/yjs` messages (updates, sync steps, awareness alike) a connection may send in one
    /// burst before its rate limit applies.
    #[arg(long, env = "TANDEM_DOC_RATE_BURST", default_value_t = 200)]
    pub doc_rate_burst: u32,

    /// Sustained `/yjs` messages per second per connection; 0 switches the `/yjs` rate limit
    /// off (bytes too). Over it a sync message closes the connection (1008); awareness is
    /// dropped, and the connection closed (1008) if it goes on.
    #[arg(long, env = "TANDEM_DOC_RATE_PER_SEC", default_value_t = 100)]
    pub doc_rate_per_sec: u32,

    /// Bytes of `/yjs` messages a connection may send in one burst (at least
    /// `--doc-max-update`, so that the largest update fits).
    #[arg(long, env = "TANDEM_DOC_RATE_BURST_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub doc_rate_burst_bytes: usize,

    /// Sustained bytes of `/yjs` messages per second per connection; 0: bytes not limited.
    #[arg(long, env = "TANDEM_DOC_RATE_BYTES_PER_SEC", default_value_t = 512 * 1024)]
    pub doc_rate_bytes_per_sec: usize,

    /// WebSocket connections (`/ws`, `/yjs` and `/echo` together) one client address (an
    /// IPv6 /64) may have open; the handshake of one more gets HTTP 429. 0: no cap.
    #[arg(long, env = "TANDEM_MAX_CONNS_PER_ADDR", default_value_t = 256)]
    pub max_conns_per_addr: usize,

    /// Count connections by the address in the last `X-Forwarded-For` entry instead of the
    /// TCP peer's. Only behind a reverse proxy that appends it: otherwise a client could
    /// name any address.
    #[arg(long, env = "TANDEM_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Rooms one `/ws` connection may be in at once; a `join` of one more gets an error
    /// `too_many_rooms` (the connection stays open).
    #[arg(long, env = "TANDEM_MAX_ROOMS_PER_CONN", default_value_t = 64)]
    pub max_rooms_per_conn: usize,

    /// Sustained joins per second per `/ws` connection, with a burst of
    /// `--max-rooms-per-conn` (a page that reconnects rejoins all its rooms at once); a join
    /// beyond gets an error `rate_limited`. 0: off.
    #[arg(long, env = "TANDEM_JOINS_PER_SEC", default_value_t = 5)]
    pub joins_per_sec: u32,

    /// Frames queued for one connection before it is closed as a slow consumer.
    #[arg(long, env = "TANDEM_OUTBOX", default_value_t = 512)]
    pub outbox_capacity: usize,

    /// Presence (who came and went) and typing go out coalesced at most once per this long
    /// per room, in milliseconds.
    #[arg(long, env = "TANDEM_PRESENCE_TICK_MS", default_value_t = 100)]
    pub presence_tick_ms: u64,

    /// Members listed at most in a `joined` reply, a presence frame or a `members` page; a
    /// bigger room is shown by its count, and its list is paged.
    #[arg(long, env = "TANDEM_PRESENCE_LIST_MAX", default_value_t = 100)]
    pub presence_list_max: usize,

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

    /// How log lines are written to stderr: `text` for people, `json` (one object per line,
    /// with the connection's `conn` span: its id and peer address) for machines.
    #[arg(long, env = "TANDEM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// HTTP worker threads (0: one per CPU core).
    #[arg(long, env = "TANDEM_WORKERS", default_value_t = 0)]
    pub workers: usize,

    /// How long shutdown waits for connections and rooms to finish, in milliseconds.
    #[arg(long, env = "TANDEM_SHUTDOWN_TIMEOUT_MS", default_value_t = 5_000)]
    pub shutdown_timeout_ms: u64,

    /// The key that signs identity tokens (at least 32 bytes). Default: `secret.key` in the
    /// data directory, created on first start. Nodes that share it accept each other's
    /// tokens.
    #[arg(long, env = "TANDEM_SECRET_FILE")]
    pub secret_file: Option<PathBuf>,

    /// How long an identity token lasts, in days (a browser that comes back gets a fresh one).
    #[arg(long, env = "TANDEM_TOKEN_TTL_DAYS", default_value_t = 180)]
    pub token_ttl_days: u64,

    /// Accept app JWTs signed with this HS256 secret (`hello {jwt}`, `?token=`).
    #[arg(long, env = "TANDEM_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Accept app JWTs signed with the private half of this public key (PEM; RS256 for an
    /// RSA key, ES256 for a P-256 key).
    #[arg(long, env = "TANDEM_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<PathBuf>,

    /// A key for the HTTP API and the admin view (`Authorization: Bearer <key>`, at least
    /// 16 characters); repeat for several (comma-separated in the environment).
    #[arg(
        long = "api-key",
        env = "TANDEM_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub api_keys: Vec<String>,

    /// A file of API keys, one per line (blank lines and `#` comments are skipped).
    #[arg(long, env = "TANDEM_API_KEY_FILE")]
    pub api_key_file: Option<PathBuf>,

    /// API requests per second per key, with a burst of twice as many; 0 for no limit.
    #[arg(long, env = "TANDEM_API_RATE_PER_SEC", default_value_t = 50)]
    pub api_rate_per_sec: u32,
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
            // Tests open many connections from 127.0.0.1 and rejoin freely; the tests of
            // these caps set their own.
            max_conns_per_addr: 1_024,
            joins_per_sec: 1_000,
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

    pub(crate) fn room_settings(&self) -> crate::rooms::Settings {
        crate::rooms::Settings {
            idle: self.room_idle(),
            tick: Duration::from_millis(self.presence_tick_ms),
            list_max: self.presence_list_max,
            shared_store: self.postgres.is_some(),
        }
    }

    /// The nodes' WebSocket origins (`ws://…`, `wss://…`), as the page connects to them.
    pub fn node_ws_origins(&self) -> Vec<String> {
        self.node_urls
            .iter()
            .filter_map(|u| {
                let u = u.trim_end_matches('/');
                u.strip_prefix("https://")
                    .map(|h| format!("wss://{h}"))
                    .or_else(|| u.strip_prefix("http://").map(|h| format!("ws://{h}")))
            })
            .collect()
    }

    pub fn node_ttl(&self) -> Duration {
        Duration::from_millis(self.node_ttl_ms.max(300))
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

    /// Where the key that signs identity tokens is.
    pub fn secret_path(&self) -> PathBuf {
        self.secret_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secret.key"))
    }

    /// The app's key for its JWTs, if one is configured.
    pub fn app_keys(&self) -> Result<Option<crate::identity::AppKeys>, crate::Error> {
        use crate::identity::AppKeys;
        let keys = match (&self.jwt_secret, &self.jwt_public_key) {
            (Some(secret), _) => Some(AppKeys::secret(secret)),
            (_, Some(path)) => Some(AppKeys::public_key(path)),
            _ => None,
        };
        keys.transpose()
            .map_err(|e| crate::Error::Config(e.to_string()))
    }

    pub fn token_ttl(&self) -> Duration {
        Duration::from_secs(self.token_ttl_days.saturating_mul(24 * 3600))
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
        if self.redis.is_some() && self.postgres.is_none() {
            return bad("--redis needs --postgres: the nodes of a cluster share one store");
        }
        if self.postgres.is_some() && self.memory_store {
            return bad("--memory-store and --postgres exclude each other");
        }
        if let Some(bad_url) = self.node_urls.iter().find(|u| {
            let host = u
                .strip_prefix("http://")
                .or_else(|| u.strip_prefix("https://"))
                .map(|h| h.trim_end_matches('/'));
            host.is_none_or(|h| h.is_empty() || h.contains('/'))
        }) {
            return Err(crate::Error::Config(format!(
                "--node-url {bad_url}: give an origin, http(s)://host[:port]"
            )));
        }
        if self.postgres_pool == 0 {
            return bad("--postgres-pool must be positive");
        }
        if self.doc_rate_bytes_per_sec > 0 && self.doc_rate_burst_bytes < self.doc_max_update {
            return bad("--doc-rate-burst-bytes must be at least --doc-max-update");
        }
        if self.max_rooms_per_conn == 0 {
            return bad("--max-rooms-per-conn must be positive");
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
        if self.presence_tick_ms == 0 || self.presence_tick_ms > 1_000 {
            return bad("--presence-tick-ms must be 1 to 1000");
        }
        if self.presence_list_max == 0 {
            return bad("--presence-list-max must be positive");
        }
        if self.token_ttl_days == 0 {
            return bad("--token-ttl-days must be positive");
        }
        if self.jwt_secret.is_some() && self.jwt_public_key.is_some() {
            return bad("give --jwt-secret or --jwt-public-key, not both");
        }
        Ok(())
    }
}
