//! What `/metrics` says, in Prometheus' text format (`prometheus-client`): one registry per
//! process (a server is one process; tests running several servers in one process share it
//! and compare differences). Counters are bumped where things happen; the gauges of live
//! rooms, documents and the cluster link are read when scraped.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::{counter::Counter, family::Family, gauge::Gauge};
use prometheus_client::registry::Registry;
use std::sync::LazyLock;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Endpoint {
    pub(crate) endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Outcome {
    pub(crate) result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Op {
    pub(crate) op: &'static str,
}

pub(crate) struct Metrics {
    pub(crate) connections_open: Family<Endpoint, Gauge>,
    pub(crate) connections: Family<Endpoint, Counter>,
    pub(crate) chat: Family<Outcome, Counter>,
    pub(crate) deliveries: Counter,
    pub(crate) slow_consumers: Counter,
    pub(crate) rate_limited: Counter,
    pub(crate) store_seconds: Family<Op, Histogram>,
    pub(crate) document_bytes: Histogram,
    pub(crate) rooms_live: Gauge,
    pub(crate) documents_live: Gauge,
    pub(crate) cluster_link_up: Gauge,
    pub(crate) store_up: Gauge,
    registry: Registry,
}

pub(crate) static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Metrics {
        let store_seconds = Family::<Op, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0002, 2.0, 16))
        });
        let mut m = Metrics {
            connections_open: Family::default(),
            connections: Family::default(),
            chat: Family::default(),
            deliveries: Counter::default(),
            slow_consumers: Counter::default(),
            rate_limited: Counter::default(),
            store_seconds,
            document_bytes: Histogram::new(exponential_buckets(256.0, 4.0, 10)),
            rooms_live: Gauge::default(),
            documents_live: Gauge::default(),
            cluster_link_up: Gauge::default(),
            store_up: Gauge::default(),
            registry: Registry::with_prefix("tandem"),
        };
        let r = &mut m.registry;
        r.register(
            "connections_open",
            "Open WebSocket connections, by endpoint",
            m.connections_open.clone(),
        );
        r.register(
            "connections",
            "WebSocket connections accepted, by endpoint",
            m.connections.clone(),
        );
        r.register(
            "chat_messages",
            "Chat messages: accepted (stored) or refused, by reason",
            m.chat.clone(),
        );
        r.register(
            "deliveries",
            "Frames queued to subscribers' outboxes by room broadcasts",
            m.deliveries.clone(),
        );
        r.register(
            "slow_consumer_closes",
            "Connections closed as slow consumers (1013)",
            m.slow_consumers.clone(),
        );
        r.register(
            "rate_limited",
            "Messages refused (or connections closed) by a connection's rate limit",
            m.rate_limited.clone(),
        );
        r.register(
            "store_seconds",
            "Store calls' latency, by operation",
            m.store_seconds.clone(),
        );
        r.register(
            "document_bytes",
            "Documents' encoded sizes, at each compaction",
            m.document_bytes.clone(),
        );
        r.register(
            "rooms_live",
            "Rooms loaded on this node",
            m.rooms_live.clone(),
        );
        r.register(
            "documents_live",
            "Documents loaded on this node",
            m.documents_live.clone(),
        );
        r.register(
            "cluster_link_up",
            "1 while the link to the other nodes works (always 1 alone)",
            m.cluster_link_up.clone(),
        );
        r.register(
            "store_up",
            "1 while the store (SQLite, or the cluster's Postgres) answers within 3 s",
            m.store_up.clone(),
        );
        m
    }

    /// The text exposition.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub(crate) fn chat(&self, result: &'static str, n: u64) {
        self.chat.get_or_create(&Outcome { result }).inc_by(n);
    }

    /// Time a store call.
    pub(crate) fn store<T>(&self, op: &'static str, f: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let out = f();
        self.store_seconds
            .get_or_create(&Op { op })
            .observe(started.elapsed().as_secs_f64());
        out
    }
}

/// A chat refusal's `result` label.
pub(crate) fn refusal(code: tandem_shared::ErrorCode) -> &'static str {
    use tandem_shared::ErrorCode;
    match code {
        ErrorCode::NotJoined => "not_joined",
        ErrorCode::Forbidden => "forbidden",
        ErrorCode::ClientIdReused => "client_id_reused",
        ErrorCode::Unavailable => "unavailable",
        ErrorCode::RateLimited => "rate_limited",
        ErrorCode::InvalidRoom | ErrorCode::InvalidText | ErrorCode::TextTooLong => "invalid",
        _ => "other",
    }
}

/// Held by a connection's task: counts it open until it ends.
pub(crate) struct OpenConnection(&'static str);

impl OpenConnection {
    pub(crate) fn new(endpoint: &'static str) -> OpenConnection {
        METRICS
            .connections
            .get_or_create(&Endpoint { endpoint })
            .inc();
        METRICS
            .connections_open
            .get_or_create(&Endpoint { endpoint })
            .inc();
        OpenConnection(endpoint)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        METRICS
            .connections_open
            .get_or_create(&Endpoint { endpoint: self.0 })
            .dec();
    }
}
