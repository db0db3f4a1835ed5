//! Turns for CPU-heavy work: a filtered scan, a `since=` search, a
//! timeline, inflating a gzip generation each take a `Permit` first, and at
//! most `--max-scans` permits are out at once, so that no client can take
//! every core from the followers. The next request waits its turn, first
//! come first served; while it waits, a callback it gives is called every
//! `TURN_LOOK` (the caller looks at its client, which may have left, and
//! sends `{"progress":{"scanned":0,"total":T,"waiting":true}}`), and a
//! `false` from it gives the place in the queue up. A permit gives its turn
//! back when dropped, also when a thread panics and unwinds.
//!
//! One set of turns serves the whole process (`shared()`): the work that
//! needs a turn happens deep in the follow loop too (inflating a
//! generation), where no connection state reaches. `listener::run` sets its
//! size once at start (`init`); unit tests build their own `Turns`.

use crate::limits::TURN_LOOK;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

/// A counting semaphore with a first-come-first-served queue.
pub struct Turns {
    max: usize,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Default)]
struct State {
    /// Permits out now.
    running: usize,
    /// The tickets of the waiting requests, oldest first.
    queue: VecDeque<u64>,
    /// The last ticket given.
    last: u64,
}

/// One turn, given back on drop.
pub struct Permit<'a> {
    turns: &'a Turns,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.turns.lock().running -= 1;
        self.turns.freed.notify_all();
    }
}

impl Turns {
    /// At most `max` permits out at once (at least one).
    pub fn new(max: usize) -> Self {
        Turns {
            max: max.max(1),
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    /// Permits out now, and requests waiting (for the tests).
    #[cfg(test)]
    pub fn load(&self) -> (usize, usize) {
        let s = self.lock();
        (s.running, s.queue.len())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A permit at once when one is free and nobody waits before us.
    pub fn try_take(&self) -> Option<Permit<'_>> {
        let mut s = self.lock();
        (s.queue.is_empty() && s.running < self.max).then(|| {
            s.running += 1;
            Permit { turns: self }
        })
    }

    /// A permit, waiting in line for it. While waiting, `keep_waiting` is
    /// called every `TURN_LOOK` (never under the lock): `false` leaves the
    /// line, and then `None` is returned. Whether the caller waited is told
    /// by `waited`.
    pub fn take(&self, mut keep_waiting: impl FnMut() -> bool) -> Option<(Permit<'_>, bool)> {
        if let Some(p) = self.try_take() {
            return Some((p, false));
        }
        let ticket = {
            let mut s = self.lock();
            s.last += 1;
            let t = s.last;
            s.queue.push_back(t);
            t
        };
        loop {
            let mut s = self.lock();
            if s.running < self.max && s.queue.front() == Some(&ticket) {
                s.queue.pop_front();
                s.running += 1;
                drop(s);
                // The next in line may find a permit free too.
                self.freed.notify_all();
                return Some((Permit { turns: self }, true));
            }
            let (s, _) = self
                .freed
                .wait_timeout(s, TURN_LOOK)
                .unwrap_or_else(PoisonError::into_inner);
            let free = s.running < self.max && s.queue.front() == Some(&ticket);
            drop(s);
            if !free && !keep_waiting() {
                let mut s = self.lock();
                s.queue.retain(|&t| t != ticket);
                drop(s);
                // Whoever was behind us may be first now.
                self.freed.notify_all();
                return None;
            }
        }
    }
}

static SHARED: OnceLock<Turns> = OnceLock::new();

/// The default number of turns: the machine's CPUs as the kernel lets this
/// process use them (`sched_getaffinity`, cgroup quotas), 1 if unknown.
pub fn default_max() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Sets the size of the process's turns (`--max-scans`); the first call
/// wins, and `shared()` before any call uses `default_max()`.
pub fn init(max: usize) {
    let _ = SHARED.set(Turns::new(max));
}

/// The process's turns.
pub fn shared() -> &'static Turns {
    SHARED.get_or_init(|| Turns::new(default_max()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// How long a test waits, at most, for a thread to join the line.
    const SETTLE: Duration = Duration::from_secs(10);

    #[test]
    fn never_more_than_max_at_once() {
        let turns = Arc::new(Turns::new(2));
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let waited = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (turns, now, most, waited) = (
                    Arc::clone(&turns),
                    Arc::clone(&now),
                    Arc::clone(&most),
                    Arc::clone(&waited),
                );
                std::thread::spawn(move || {
                    let (permit, w) = turns.take(|| true).expect("a turn");
                    if w {
                        waited.fetch_add(1, Ordering::Relaxed);
                    }
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(30));
                    now.fetch_sub(1, Ordering::SeqCst);
                    drop(permit);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert!(waited.load(Ordering::Relaxed) >= 6 - 2);
        assert_eq!(turns.load(), (0, 0));
    }

    #[test]
    fn a_waiter_that_leaves_frees_its_place_and_the_line_moves_in_order() {
        let turns = Arc::new(Turns::new(1));
        let first = turns.try_take().expect("free");
        // One that gives up after a few looks.
        let t2 = Arc::clone(&turns);
        let leaver = std::thread::spawn(move || {
            let mut looks = 0;
            t2.take(|| {
                looks += 1;
                looks < 3
            })
            .is_none()
        });
        let deadline = Instant::now() + SETTLE;
        while turns.load().1 < 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        // One that waits for real, behind the leaver.
        let t3 = Arc::clone(&turns);
        let order = Arc::new(Mutex::new(Vec::new()));
        let o3 = Arc::clone(&order);
        let stayer = std::thread::spawn(move || {
            let (p, waited) = t3.take(|| true).expect("a turn");
            o3.lock().unwrap().push("stayer");
            drop(p);
            waited
        });
        assert!(leaver.join().unwrap(), "the leaver got a turn");
        // Nobody else gets in ahead of the queue.
        assert!(turns.try_take().is_none());
        order.lock().unwrap().push("first done");
        drop(first);
        assert!(stayer.join().unwrap());
        assert_eq!(*order.lock().unwrap(), ["first done", "stayer"]);
        assert_eq!(turns.load(), (0, 0));
        assert!(turns.try_take().is_some());
    }
}
