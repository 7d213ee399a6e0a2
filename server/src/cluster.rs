//! The cluster's router: the one owner of what this node knows of the others. It hands each
//! event from the backplane to the live room or document it is about (an event about a
//! room not live here is dropped: the room reads the store when it loads), sends this node's
//! heartbeat, and keeps the other nodes' liveness — a node not heard from for `ttl` is dead,
//! and every room and document here forgets its members and awareness (no graceful leave
//! needed: that is what a `kill -9` looks like).

use crate::broker::redis::Inbound;
use crate::broker::{relay::Envelope, Broker, NodeId, Relay};
use crate::docs::Docs;
use crate::rooms::Rooms;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tandem_shared::ids::RoomName;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub(crate) struct Router {
    pub(crate) broker: Arc<dyn Broker>,
    pub(crate) rooms: Rooms,
    pub(crate) docs: Docs,
    /// A node silent this long is dead; heartbeats go out three times per `ttl`.
    pub(crate) ttl: Duration,
}

impl Router {
    pub(crate) async fn run(self, mut inbound: mpsc::Receiver<Inbound>, stop: CancellationToken) {
        let me = self.broker.node();
        let mut seen: HashMap<NodeId, Instant> = HashMap::new();
        let mut beat = tokio::time::interval(self.ttl / 3);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = beat.tick() => {
                    self.broker.relay(None, Relay::Heartbeat);
                    let now = Instant::now();
                    let dead: Vec<NodeId> = seen
                        .iter()
                        .filter(|(_, at)| now.duration_since(**at) > self.ttl)
                        .map(|(node, _)| *node)
                        .collect();
                    for node in dead {
                        seen.remove(&node);
                        tracing::warn!(node, "cluster: node silent too long, its members are gone");
                        self.forget(node).await;
                    }
                }
                event = inbound.recv() => match event {
                    None => break,
                    Some(Inbound::Up) => {
                        // Whatever was relayed while the link was down is missing here.
                        self.rooms.resync_all().await;
                        self.docs.resync_all().await;
                    }
                    Some(Inbound::Event(envelope)) if Some(envelope.node) == me => {}
                    Some(Inbound::Event(envelope)) => {
                        let node = envelope.node;
                        if matches!(envelope.relay, Relay::Gone) {
                            seen.remove(&node);
                            tracing::info!(node, "cluster: node left");
                            self.forget(node).await;
                            continue;
                        }
                        if seen.insert(node, Instant::now()).is_none() {
                            tracing::info!(node, "cluster: node seen");
                            // It may have been declared dead: let it restate its members.
                            self.rooms.node_seen_all().await;
                        }
                        self.dispatch(envelope).await;
                    }
                },
            }
        }
    }

    async fn forget(&self, node: NodeId) {
        self.rooms.node_gone_all(node).await;
        self.docs.node_gone_all(node).await;
    }

    async fn dispatch(&self, envelope: Envelope) {
        let Some(room) = envelope.room.as_deref() else {
            return;
        };
        let Ok(room) = RoomName::new(room) else {
            tracing::warn!(room, "cluster: event for an invalid room name ignored");
            return;
        };
        match envelope.relay {
            relay @ (Relay::DocUpdate { .. } | Relay::Awareness { .. }) => {
                self.docs.remote(&room, envelope.node, relay).await
            }
            relay => self.rooms.remote(&room, envelope.node, relay).await,
        }
    }
}
