//! The queue under a connection's [`super::Outbox`]: bounded, many producers (its rooms, its
//! document, its own session), one consumer (the connection's response body, `ws/body.rs`).
//!
//! Why not `tokio::sync::mpsc`: a tokio channel allocates a block of 32 slots (over 1 KiB for
//! 32-byte frames) when it is made and keeps it for its life, and an idle connection needs
//! none of it. This queue holds no memory while nothing was queued, and gives back what a
//! burst grew it to once it is drained (keeping a few slots, so that steady traffic does not
//! allocate per frame). One short lock per push or pop; the consumer's waker is kept under it.

use parking_lot::Mutex;
use std::{
    collections::VecDeque,
    sync::Arc,
    task::{Context, Poll, Waker},
};

/// Slots a drained queue keeps; beyond this it frees them.
const KEEP: usize = 8;

struct State<F> {
    items: VecDeque<F>,
    /// The consumer, waiting for an item.
    waker: Option<Waker>,
    /// The consumer is gone, or stopped taking items.
    closed: bool,
}

struct Inner<F> {
    state: Mutex<State<F>>,
    capacity: usize,
}

/// Why [`Tx::try_send`] did not queue its item (which it drops).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    Full,
    Closed,
}

/// The producers' end; clones share the queue.
pub(crate) struct Tx<F>(Arc<Inner<F>>);

/// The consumer's end. Dropping it closes the queue and drops what is in it.
pub(crate) struct Rx<F>(Arc<Inner<F>>);

/// A queue of at most `capacity` items.
pub(crate) fn queue<F>(capacity: usize) -> (Tx<F>, Rx<F>) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            items: VecDeque::new(),
            waker: None,
            closed: false,
        }),
        capacity: capacity.max(1),
    });
    (Tx(inner.clone()), Rx(inner))
}

impl<F> Clone for Tx<F> {
    fn clone(&self) -> Self {
        Tx(self.0.clone())
    }
}

impl<F> std::fmt::Debug for Tx<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("capacity", &self.0.capacity)
            .finish_non_exhaustive()
    }
}

impl<F> Tx<F> {
    /// Queue `item` without waiting.
    pub(crate) fn try_send(&self, item: F) -> Result<(), Refused> {
        let waker = {
            let mut state = self.0.state.lock();
            if state.closed {
                return Err(Refused::Closed);
            }
            if state.items.len() >= self.0.capacity {
                return Err(Refused::Full);
            }
            state.items.push_back(item);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Free slots.
    pub(crate) fn capacity(&self) -> usize {
        let state = self.0.state.lock();
        self.0.capacity.saturating_sub(state.items.len())
    }
}

impl<F> Rx<F> {
    /// The next item. (The queue is open for as long as this end exists: it closes when
    /// this end is dropped, so there is no "closed" to report here.)
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<F> {
        let mut state = self.0.state.lock();
        match state.items.pop_front() {
            Some(item) => {
                if state.items.is_empty() && state.items.capacity() > KEEP {
                    state.items = VecDeque::new();
                }
                Poll::Ready(item)
            }
            None => {
                match &state.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => state.waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }

    /// The next item, if one is queued.
    #[cfg(test)]
    pub(crate) fn try_recv(&mut self) -> Option<F> {
        match self.poll_recv(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(item) => Some(item),
            Poll::Pending => None,
        }
    }
}

impl<F> Drop for Rx<F> {
    fn drop(&mut self) {
        let items = {
            let mut state = self.0.state.lock();
            state.closed = true;
            state.waker = None;
            std::mem::take(&mut state.items)
        };
        // Dropped outside the lock: an item's drop may be anything.
        drop(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn bounded_in_order_and_closed_when_the_consumer_goes() {
        let (tx, mut rx) = queue(2);
        assert_eq!(tx.try_send(1), Ok(()));
        assert_eq!(tx.clone().try_send(2), Ok(()));
        assert_eq!(tx.try_send(3), Err(Refused::Full));
        assert_eq!(tx.capacity(), 0);
        assert_eq!(rx.try_recv(), Some(1));
        assert_eq!(tx.capacity(), 1);
        assert_eq!(rx.try_recv(), Some(2));
        assert_eq!(rx.try_recv(), None);
        drop(rx);
        assert_eq!(tx.try_send(4), Err(Refused::Closed));
    }

    #[test]
    fn a_waiting_consumer_is_woken_once_per_wait() {
        let (tx, mut rx) = queue(8);
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_recv(&mut cx).is_pending());
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert_eq!(
            count.0.load(Ordering::Relaxed),
            1,
            "woken by the first only"
        );
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(1));
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(2));
    }

    #[test]
    fn holds_nothing_until_used_and_frees_a_burst_once_drained() {
        let (tx, mut rx) = queue::<u64>(1024);
        assert_eq!(
            rx.0.state.lock().items.capacity(),
            0,
            "nothing allocated up front"
        );
        for i in 0..100 {
            tx.try_send(i).unwrap();
        }
        while rx.try_recv().is_some() {}
        assert_eq!(
            rx.0.state.lock().items.capacity(),
            0,
            "a drained burst is freed"
        );
        tx.try_send(1).unwrap();
        rx.try_recv();
        let kept = rx.0.state.lock().items.capacity();
        assert!((1..=KEEP).contains(&kept), "a small queue is kept: {kept}");
    }
}
