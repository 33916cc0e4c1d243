//! Reads the page needs to draw, started at load in parallel with `whoami` instead of after it:
//! the graph, the routes and the history. The console below the session gate mounts once
//! `whoami` answers; its reads then take what was preloaded (usually already there) instead of
//! asking again. Each preloaded answer goes to as many readers as the app said it has (the graph
//! and the routes one each; the history two, the graph's change marks and the timeline, so it is
//! fetched once per load), and only when it succeeded: a failed preload (say, 401 before sign-in
//! in token mode) is never handed out, the reader asks afresh. Later reads ("refresh now", a
//! remount) always ask the server.

use super::{client::get_json, Error};
use futures::future::{FutureExt, LocalBoxFuture, Shared};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::thread::LocalKey;
use switchyard_protocol::{Graph, HistoryResponse, RoutesResponse};

type Pending<T> = Shared<LocalBoxFuture<'static, Result<T, Error>>>;

/// One preloaded read and how many readers may still take it (pure bookkeeping).
pub struct Slot<T: Clone> {
    pending: Option<Pending<T>>,
    readers: usize,
}

impl<T: Clone> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            pending: None,
            readers: 0,
        }
    }
}

impl<T: Clone + 'static> Slot<T> {
    /// Holds `read` for `readers` readers and returns it (to be driven from now on).
    pub fn fill(
        &mut self,
        read: impl Future<Output = Result<T, Error>> + 'static,
        readers: usize,
    ) -> Pending<T> {
        let pending = read.boxed_local().shared();
        self.pending = (readers > 0).then(|| pending.clone());
        self.readers = readers;
        pending
    }

    /// The preloaded read for one more reader, if any is left; the last reader empties the slot.
    pub fn take(&mut self) -> Option<Pending<T>> {
        if self.readers == 0 {
            return None;
        }
        self.readers -= 1;
        if self.readers == 0 {
            self.pending.take()
        } else {
            self.pending.clone()
        }
    }
}

thread_local! {
    static GRAPH: RefCell<Slot<Graph>> = RefCell::new(Slot::default());
    /// The rate window the preloaded graph is over (`None`: the server's default).
    static GRAPH_WINDOW: Cell<Option<u32>> = const { Cell::new(None) };
    static ROUTES: RefCell<Slot<RoutesResponse>> = RefCell::new(Slot::default());
    static HISTORY: RefCell<Slot<HistoryResponse>> = RefCell::new(Slot::default());
}

/// Starts the three reads now. `history_readers`: how many parts of the page read the history
/// on load (two, or one in kiosk mode, which has no timeline); `window`: the rate window of the
/// graph, as the URL names it.
pub fn start(history_readers: usize, window: Option<u32>) {
    GRAPH_WINDOW.set(window);
    drive(GRAPH.with_borrow_mut(|s| s.fill(request_graph(window), 1)));
    drive(ROUTES.with_borrow_mut(|s| s.fill(request_routes(), 1)));
    drive(HISTORY.with_borrow_mut(|s| s.fill(request_history(), history_readers)));
}

/// A shared future only runs while polled: keep it running until it is done.
fn drive<T: Clone + 'static>(pending: Pending<T>) {
    leptos::task::spawn_local(pending.map(|_| ()));
}

/// The preloaded answer if there is one for this reader and it succeeded; otherwise `fresh`.
async fn read<T: Clone + 'static, F: Future<Output = Result<T, Error>>>(
    slot: &'static LocalKey<RefCell<Slot<T>>>,
    fresh: impl FnOnce() -> F,
) -> Result<T, Error> {
    if let Some(pending) = slot.with_borrow_mut(Slot::take) {
        if let Ok(value) = pending.await {
            return Ok(value);
        }
    }
    fresh().await
}

async fn request_graph(window: Option<u32>) -> Result<Graph, Error> {
    get_json(&super::events::with_window("/api/v1/graph", window)).await
}

async fn request_routes() -> Result<RoutesResponse, Error> {
    get_json("/api/v1/routes").await
}

async fn request_history() -> Result<HistoryResponse, Error> {
    get_json("/api/v1/history").await
}

/// The graph over `window`: the preloaded one only if it was over that window.
pub(super) async fn graph(window: Option<u32>) -> Result<Graph, Error> {
    if GRAPH_WINDOW.get() != window {
        GRAPH.with_borrow_mut(|slot| *slot = Slot::default());
    }
    read(&GRAPH, || request_graph(window)).await
}

pub(super) async fn routes() -> Result<RoutesResponse, Error> {
    read(&ROUTES, request_routes).await
}

pub(super) async fn history() -> Result<HistoryResponse, Error> {
    read(&HISTORY, request_history).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use std::cell::Cell;
    use std::rc::Rc;

    #[test]
    fn a_preload_goes_to_its_readers_once_each_and_is_read_once() {
        let calls = Rc::new(Cell::new(0));
        let counted = calls.clone();
        let mut slot = Slot::<u32>::default();
        let _unpolled = slot.fill(
            async move {
                counted.set(counted.get() + 1);
                Ok(7)
            },
            2,
        );
        let first = slot.take().expect("first reader");
        let second = slot.take().expect("second reader");
        assert!(slot.take().is_none(), "a third reader asks the server");
        assert_eq!(block_on(first), Ok(7));
        assert_eq!(block_on(second), Ok(7));
        assert_eq!(calls.get(), 1, "one request for both readers");
    }

    #[test]
    fn no_readers_no_preload() {
        let mut slot = Slot::<u32>::default();
        assert!(slot.take().is_none());
        let _unpolled = slot.fill(async { Ok(1) }, 0);
        assert!(slot.take().is_none());
    }
}
