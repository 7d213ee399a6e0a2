//! The cluster's [`Broker`]: local fan-out as in one process, plus Redis between nodes.
//!
//! Two links to Redis, each owned by one task: the publisher (a `ConnectionManager`, which
//! reconnects by itself) sends what this node relays, in order, pipelined; the subscriber
//! (a pub/sub connection on `tandem:*`) hands every other node's events to the cluster's
//! router ([`super::cluster`]) and, each time it has (re)subscribed, says so — the router
//! then has every live room and document catch up from the store.
//!
//! Overflow policy: the relay queue holds [`RELAY_QUEUE`] events; beyond that (Redis down
//! for long under load) new events are dropped and counted. Receivers heal a dropped chat
//! message or document update by the gap the next one shows, or by the resync at reconnect,
//! reading the store; presence is restated in full on every reconnect.

use super::relay::{Envelope, NodeId, Relay, CHANNEL_PREFIX};
use super::{Broker, ConnId, Frame, LocalBroker, Outbox};
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tandem_shared::ids::RoomName;
use tokio::sync::mpsc;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// Events waiting for the publisher.
pub const RELAY_QUEUE: usize = 65_536;
/// Events published in one pipeline at most.
const PIPELINE: usize = 512;
/// Inbound events waiting for the router before the subscriber waits (backpressure onto
/// Redis, which buffers for a subscriber up to its own limit, then drops the link: a
/// reconnect and a resync follow).
const INBOUND_QUEUE: usize = 8_192;

#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error("redis at {url}: {source}")]
    Connect {
        url: String,
        source: redis::RedisError,
    },
}

/// What the subscriber hands the router.
#[derive(Debug)]
pub enum Inbound {
    /// Subscribed (again): whatever was relayed while the link was down is missing here.
    Up,
    Event(Envelope),
}

pub struct RedisBroker {
    local: LocalBroker,
    node: NodeId,
    relay: mpsc::Sender<Envelope>,
    dropped: AtomicU64,
    health: Arc<Health>,
}

/// What the two links last saw, for `/readyz`.
#[derive(Default)]
struct Health {
    subscribed: AtomicBool,
    publish_failing: AtomicBool,
}

impl RedisBroker {
    /// Connect both links (failing if Redis does not answer now), and start the publisher
    /// and the subscriber on `tracker`; they stop when `shutdown` is cancelled, the
    /// publisher after sending what is queued (within a second).
    pub async fn start(
        url: &str,
        node: NodeId,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) -> Result<(RedisBroker, mpsc::Receiver<Inbound>), RedisError> {
        let err = |source| RedisError::Connect {
            url: url.to_owned(),
            source,
        };
        let client = redis::Client::open(url).map_err(err)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_max_delay(Duration::from_secs(1));
        let publisher = tokio::time::timeout(
            Duration::from_secs(5),
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await
        .map_err(|_| {
            err(redis::RedisError::from(std::io::Error::from(
                std::io::ErrorKind::TimedOut,
            )))
        })?
        .map_err(err)?;
        let (tx, rx) = mpsc::channel(RELAY_QUEUE);
        let (in_tx, in_rx) = mpsc::channel(INBOUND_QUEUE);
        let health = Arc::new(Health::default());
        tracker.spawn(publish(publisher, rx, (shutdown.clone(), health.clone())));
        tracker.spawn(subscribe(client, in_tx, (shutdown, health.clone())));
        let broker = RedisBroker {
            local: LocalBroker::default(),
            node,
            relay: tx,
            dropped: AtomicU64::new(0),
            health,
        };
        Ok((broker, in_rx))
    }
}

impl Broker for RedisBroker {
    fn subscribe(&self, room: &RoomName, conn: ConnId, outbox: Outbox) {
        self.local.subscribe(room, conn, outbox)
    }
    fn unsubscribe(&self, room: &RoomName, conn: ConnId) {
        self.local.unsubscribe(room, conn)
    }
    fn publish(&self, room: &RoomName, frame: &Frame) {
        self.local.publish(room, frame)
    }
    fn publish_droppable(&self, room: &RoomName, frame: &Frame) {
        self.local.publish_droppable(room, frame)
    }
    fn subscribe_many(&self, room: &RoomName, conns: Vec<(ConnId, Outbox)>) {
        self.local.subscribe_many(room, conns)
    }
    fn unsubscribe_many(&self, room: &RoomName, conns: &[ConnId]) {
        self.local.unsubscribe_many(room, conns)
    }

    fn node(&self) -> Option<NodeId> {
        Some(self.node)
    }

    fn link_trouble(&self) -> Option<String> {
        if !self.health.subscribed.load(Ordering::Relaxed) {
            Some("redis: not subscribed (reconnecting)".into())
        } else if self.health.publish_failing.load(Ordering::Relaxed) {
            Some("redis: publishing fails (retrying)".into())
        } else {
            None
        }
    }

    fn relay(&self, room: Option<&RoomName>, relay: Relay) {
        let envelope = Envelope {
            node: self.node,
            room: room.map(|r| r.as_str().to_owned()),
            relay,
        };
        if self.relay.try_send(envelope).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(
                    dropped,
                    "relay queue full: events dropped (receivers heal from the store)"
                );
            }
        }
    }
}

/// The publisher: queued events in order, pipelined; a failed pipeline is retried (after
/// the manager reconnects) until it goes through or the node stops.
async fn publish(
    mut conn: ConnectionManager,
    mut rx: mpsc::Receiver<Envelope>,
    (shutdown, health): (CancellationToken, Arc<Health>),
) {
    let mut batch = Vec::with_capacity(PIPELINE);
    let mut failing = false;
    loop {
        let n = tokio::select! {
            n = rx.recv_many(&mut batch, PIPELINE) => n,
            // Last words (`Gone`) are queued before the token is cancelled; give them a
            // moment, then stop.
            _ = shutdown.cancelled() => {
                let _ = tokio::time::timeout(Duration::from_secs(1), drain(&mut conn, &mut rx)).await;
                return;
            }
        };
        if n == 0 {
            return;
        }
        let pipe = pipeline(batch.drain(..));
        loop {
            match pipe.query_async::<()>(&mut conn).await {
                Ok(()) => {
                    if failing {
                        tracing::info!("redis: publishing again");
                        failing = false;
                        health.publish_failing.store(false, Ordering::Relaxed);
                    }
                    break;
                }
                Err(err) => {
                    if !failing {
                        tracing::warn!(%err, "redis: publish failed; retrying");
                        failing = true;
                        health.publish_failing.store(true, Ordering::Relaxed);
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                        _ = shutdown.cancelled() => return,
                    }
                }
            }
        }
    }
}

/// One `PUBLISH` per envelope, on its channel, in order.
fn pipeline(envelopes: impl Iterator<Item = Envelope>) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    for envelope in envelopes {
        pipe.publish(envelope.channel(), envelope.encode()).ignore();
    }
    pipe
}

async fn drain(conn: &mut ConnectionManager, rx: &mut mpsc::Receiver<Envelope>) {
    let pipe = pipeline(std::iter::from_fn(|| rx.try_recv().ok()));
    let _ = pipe.query_async::<()>(conn).await;
}

/// The subscriber: `tandem:*` on its own connection, reconnecting with a capped backoff.
async fn subscribe(
    client: redis::Client,
    to: mpsc::Sender<Inbound>,
    (shutdown, health): (CancellationToken, Arc<Health>),
) {
    let pattern = format!("{CHANNEL_PREFIX}*");
    let mut delay = Duration::from_millis(100);
    loop {
        let attempt = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.psubscribe(&pattern).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let pubsub = tokio::select! {
            res = tokio::time::timeout(Duration::from_secs(2), attempt) => res,
            _ = shutdown.cancelled() => return,
        };
        match pubsub {
            Ok(Ok(pubsub)) => {
                delay = Duration::from_millis(100);
                tracing::info!("redis: subscribed");
                health.subscribed.store(true, Ordering::Relaxed);
                if to.send(Inbound::Up).await.is_err() {
                    return;
                }
                let mut stream = pubsub.into_on_message();
                loop {
                    let msg = tokio::select! {
                        msg = stream.next() => msg,
                        _ = shutdown.cancelled() => return,
                    };
                    let Some(msg) = msg else { break };
                    match Envelope::decode(msg.get_payload_bytes()) {
                        Ok(envelope) => {
                            if to.send(Inbound::Event(envelope)).await.is_err() {
                                return;
                            }
                        }
                        Err(err) => {
                            tracing::warn!(channel = msg.get_channel_name(), %err, "redis: undecodable event ignored")
                        }
                    }
                }
                tracing::warn!("redis: subscription lost; reconnecting");
                health.subscribed.store(false, Ordering::Relaxed);
            }
            Ok(Err(err)) => tracing::warn!(%err, "redis: cannot subscribe; retrying"),
            Err(_) => tracing::warn!("redis: subscribing timed out; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.cancelled() => return,
        }
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}
