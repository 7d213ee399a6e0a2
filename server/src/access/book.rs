//! [`AccessBook`]: the one owner of the rooms' rules. Cloneable; every room's rules are
//! loaded from the store on first use and published through a `watch` channel, so the room
//! task and the document task of a room read the same rules and see a change at once.
//! Changes are written to the store before they are published (a ban survives a restart
//! from the moment anyone sees it), one at a time.

use super::rules::{Denied, RoomAccess};
use crate::store::Store;
use parking_lot::Mutex;
use std::{collections::HashMap, sync::Arc};
use tandem_shared::ids::RoomName;
use tokio::sync::watch;

/// The rules could not be read or written (the store failed).
#[derive(Debug, thiserror::Error)]
#[error("room rules unavailable")]
pub struct Unavailable;

#[derive(Clone)]
pub struct AccessBook {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    /// Live rooms' rules. A plain lock: held only to look up or insert, never across an
    /// await. Entries nobody watches any more are dropped on the next load.
    rooms: Mutex<HashMap<RoomName, watch::Sender<Arc<RoomAccess>>>>,
    /// Changes happen one at a time (read, change, store, publish). A Tokio mutex: it is
    /// held across the store write.
    writes: tokio::sync::Mutex<()>,
}

impl AccessBook {
    pub fn new(store: Arc<dyn Store>) -> AccessBook {
        AccessBook {
            inner: Arc::new(Inner {
                store,
                rooms: Mutex::new(HashMap::new()),
                writes: tokio::sync::Mutex::new(()),
            }),
        }
    }

    async fn on_blocking_pool<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, crate::store::StoreError> + Send + 'static,
    ) -> Result<T, Unavailable> {
        let store = self.inner.store.clone();
        match tokio::task::spawn_blocking(move || f(&*store)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(err)) => {
                tracing::error!(%err, "room rules: storage failed");
                Err(Unavailable)
            }
            Err(err) => {
                tracing::error!(%err, "room rules: storage task failed");
                Err(Unavailable)
            }
        }
    }

    /// The room's rules as the store has them (a room with none stored: the default).
    async fn load(&self, room: &RoomName) -> Result<RoomAccess, Unavailable> {
        let name = room.clone();
        let stored = self.on_blocking_pool(move |s| s.load_access(&name)).await?;
        Ok(stored.unwrap_or_else(|| RoomAccess::unrecorded(room.as_str())))
    }

    /// The room's rules as they are now and as they change.
    pub async fn watch(
        &self,
        room: &RoomName,
    ) -> Result<watch::Receiver<Arc<RoomAccess>>, Unavailable> {
        if let Some(tx) = self.inner.rooms.lock().get(room) {
            return Ok(tx.subscribe());
        }
        let loaded = self.load(room).await?;
        let mut rooms = self.inner.rooms.lock();
        rooms.retain(|_, tx| tx.receiver_count() > 0);
        // Another caller may have loaded it meanwhile: theirs is the one.
        let tx = rooms
            .entry(room.clone())
            .or_insert_with(|| watch::Sender::new(Arc::new(loaded)));
        Ok(tx.subscribe())
    }

    /// The room's rules now.
    pub async fn get(&self, room: &RoomName) -> Result<Arc<RoomAccess>, Unavailable> {
        Ok(self.watch(room).await?.borrow().clone())
    }

    /// Change the room's rules with `change` (which may refuse); the new rules are stored,
    /// then published. Returns what `change` returned.
    pub async fn update<R: Send + 'static>(
        &self,
        room: &RoomName,
        change: impl FnOnce(&mut RoomAccess) -> Result<R, Denied>,
    ) -> Result<Result<R, Denied>, Unavailable> {
        let _one_at_a_time = self.inner.writes.lock().await;
        self.watch(room).await?;
        // Read afresh: in a cluster another node may have changed them since.
        let mut rules = self.load(room).await?;
        let result = match change(&mut rules) {
            Ok(r) => r,
            Err(denied) => return Ok(Err(denied)),
        };
        let (name, stored) = (room.clone(), rules.clone());
        self.on_blocking_pool(move |s| s.save_access(&name, &stored))
            .await?;
        if let Some(tx) = self.inner.rooms.lock().get(room) {
            tx.send_replace(Arc::new(rules));
        }
        Ok(Ok(result))
    }

    /// Read the room's rules again from the store (another node changed them) and publish
    /// them, if anyone here watches the room.
    pub async fn reload(&self, room: &RoomName) -> Result<(), Unavailable> {
        if !self.inner.rooms.lock().contains_key(room) {
            return Ok(());
        }
        let _one_at_a_time = self.inner.writes.lock().await;
        let loaded = self.load(room).await?;
        if let Some(tx) = self.inner.rooms.lock().get(room) {
            tx.send_replace(Arc::new(loaded));
        }
        Ok(())
    }

    /// Record a new room's rules (a private room just created).
    pub async fn create(&self, room: &RoomName, rules: RoomAccess) -> Result<(), Unavailable> {
        let _one_at_a_time = self.inner.writes.lock().await;
        let (name, stored) = (room.clone(), rules.clone());
        self.on_blocking_pool(move |s| s.save_access(&name, &stored))
            .await?;
        let mut rooms = self.inner.rooms.lock();
        rooms.insert(room.clone(), watch::Sender::new(Arc::new(rules)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn changes_are_stored_then_seen_by_every_watcher() {
        let store = Arc::new(MemoryStore::default());
        let book = AccessBook::new(store.clone());
        let room = RoomName::new("p-abc").unwrap();
        // Never created: private, nobody in.
        let ghost = book.get(&room).await.unwrap();
        assert!(ghost.private && ghost.owner.is_none());
        book.create(&room, RoomAccess::new_private("own", "Team".into()))
            .await
            .unwrap();
        let mut watcher = book.watch(&room).await.unwrap();
        let added = book
            .update(&room, |r| {
                r.add_member("m");
                Ok(r.roles.len())
            })
            .await
            .unwrap();
        assert_eq!(added, Ok(2));
        assert!(watcher.has_changed().unwrap());
        assert!(watcher.borrow_and_update().roles.contains_key("m"));
        // Stored before published: a fresh book (a restart) reads it back.
        let again = AccessBook::new(store).get(&room).await.unwrap();
        assert!(again.roles.contains_key("m"));
        // A refused change changes nothing.
        let refused = book
            .update(&room, |_| Err::<(), _>(Denied("no")))
            .await
            .unwrap();
        assert_eq!(refused, Err(Denied("no")));
        assert!(!watcher.has_changed().unwrap());
    }
}
