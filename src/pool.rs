//! "N jobs over K connections", written once.
//!
//! [`run_workers`] starts K workers; each opens its own resource (a
//! PostgreSQL connection) and then takes jobs from a shared [`Queue`] until
//! it is closed and empty. A job may wait for others (a child table for its
//! parents, a primary key for its index): the queue hands out the first job
//! its `ready` test accepts, and a worker with nothing ready sleeps until a
//! job finishes or arrives, instead of polling. The workers run as futures
//! of the caller's task: the work they do is on the server, on their
//! connections' own tasks and on the source readers' threads.
//!
//! [`limited`] is the simple case: at most K futures at a time, results in
//! input order. [`run_threads`] is [`run_workers`] for blocking work (SQLite
//! reads) on threads.

use futures::{StreamExt, TryStreamExt};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Mutex;
use tokio::sync::Notify;

/// Jobs waiting for a worker. Closed queues take no more jobs; workers stop
/// when it is closed and empty.
pub struct Queue<J> {
    state: Mutex<QueueState<J>>,
    changed: Notify,
}

struct QueueState<J> {
    jobs: VecDeque<J>,
    closed: bool,
}

impl<J> Queue<J> {
    /// A queue that may still be fed with [`Queue::push`].
    pub fn open() -> Queue<J> {
        Queue {
            state: Mutex::new(QueueState {
                jobs: VecDeque::new(),
                closed: false,
            }),
            changed: Notify::new(),
        }
    }

    /// A queue of these jobs and no others.
    pub fn of(jobs: impl IntoIterator<Item = J>) -> Queue<J> {
        let q = Queue::open();
        q.state.lock().unwrap().jobs.extend(jobs);
        q.close();
        q
    }

    pub fn push(&self, job: J) {
        self.state.lock().unwrap().jobs.push_back(job);
        self.changed.notify_waiters();
    }

    pub fn close(&self) {
        self.state.lock().unwrap().closed = true;
        self.changed.notify_waiters();
    }

    /// Wake workers waiting for a job to become ready.
    pub fn wake(&self) {
        self.changed.notify_waiters();
    }

    /// Remove and return every job not yet taken.
    pub fn drain(&self) -> Vec<J> {
        self.state.lock().unwrap().jobs.drain(..).collect()
    }

    /// The first job `ready` accepts; waits while none is; `None` once the
    /// queue is closed and empty.
    pub async fn next(&self, ready: impl Fn(&J) -> bool) -> Option<J> {
        loop {
            // Registered before looking, so a wake between the look and the
            // wait is not lost.
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut s = self.state.lock().unwrap();
                if let Some(i) = s.jobs.iter().position(&ready) {
                    return s.jobs.remove(i);
                }
                if s.closed && s.jobs.is_empty() {
                    return None;
                }
            }
            notified.await;
        }
    }
}

/// What a worker does after a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Take the next job.
    Continue,
    /// Stop this worker (its resource is unusable: a lost connection).
    Stop,
}

/// Run `workers` workers over `queue`. Each first opens its resource with
/// `open` (an error is returned in the list, and that worker does no job),
/// then repeatedly takes a ready job and runs `work` on it. Every finished
/// job wakes the other workers (a job may have become ready). Returns the
/// errors of workers that could not open their resource; jobs no worker
/// took are left in the queue (see [`Queue::drain`]).
pub async fn run_workers<R, J>(
    workers: usize,
    queue: &Queue<J>,
    open: impl AsyncFn() -> anyhow::Result<R>,
    ready: impl Fn(&J) -> bool,
    work: impl AsyncFn(&mut R, J) -> Then,
) -> Vec<anyhow::Error> {
    let one = async || -> Option<anyhow::Error> {
        let mut resource = match open().await {
            Ok(r) => r,
            Err(e) => return Some(e),
        };
        while let Some(job) = queue.next(&ready).await {
            let then = work(&mut resource, job).await;
            queue.wake();
            if then == Then::Stop {
                break;
            }
        }
        None
    };
    let all = (0..workers.max(1)).map(|_| one());
    futures::future::join_all(all)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// The blocking counterpart of [`run_workers`], for work that reads SQLite
/// (blocking calls): `threads` scoped threads, each opening its resource
/// (a read-only connection) with `open`, then taking `jobs` in order until
/// none is left or `work` says [`Then::Stop`]. Returns the errors of
/// threads that could not open their resource.
pub fn run_threads<R, J: Send>(
    threads: usize,
    jobs: impl IntoIterator<Item = J>,
    open: impl Fn() -> anyhow::Result<R> + Sync,
    work: impl Fn(&mut R, J) -> Then + Sync,
) -> Vec<anyhow::Error> {
    let queue = Mutex::new(jobs.into_iter().collect::<VecDeque<J>>());
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                let mut resource = match open() {
                    Ok(r) => r,
                    Err(e) => {
                        errors.lock().unwrap().push(e);
                        return;
                    }
                };
                loop {
                    let Some(job) = queue.lock().unwrap().pop_front() else {
                        return;
                    };
                    if work(&mut resource, job) == Then::Stop {
                        return;
                    }
                }
            });
        }
    });
    errors.into_inner().unwrap()
}

/// At most `n` of `futures` at a time; results in input order.
pub async fn limited<T>(
    n: usize,
    futures: impl IntoIterator<Item = impl Future<Output = T>>,
) -> Vec<T> {
    futures::stream::iter(futures)
        .buffered(n.max(1))
        .collect()
        .await
}

/// [`limited`] for fallible futures: the first error, else every result.
pub async fn try_limited<T, E>(
    n: usize,
    futures: impl IntoIterator<Item = impl Future<Output = Result<T, E>>>,
) -> Result<Vec<T>, E> {
    futures::stream::iter(futures)
        .buffered(n.max(1))
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_job_waits_for_the_one_it_needs_without_polling() {
        // Job 1 needs job 0 done; two workers; job 1 is queued first.
        let done = [AtomicUsize::new(0), AtomicUsize::new(0)];
        let order = Mutex::new(Vec::new());
        let q = Queue::of([1usize, 0]);
        let errors = run_workers(
            2,
            &q,
            async || Ok(()),
            |j: &usize| *j == 0 || done[0].load(Ordering::SeqCst) == 1,
            async |_: &mut (), j: usize| {
                tokio::task::yield_now().await;
                order.lock().unwrap().push(j);
                done[j].store(1, Ordering::SeqCst);
                Then::Continue
            },
        )
        .await;
        assert!(errors.is_empty());
        assert_eq!(*order.lock().unwrap(), vec![0, 1]);
    }

    #[tokio::test]
    async fn workers_that_cannot_open_leave_the_jobs_queued() {
        let q = Queue::of([1, 2, 3]);
        let errors = run_workers(
            2,
            &q,
            async || -> anyhow::Result<()> { anyhow::bail!("no connection") },
            |_: &i32| true,
            async |_: &mut (), _| Then::Continue,
        )
        .await;
        assert_eq!(errors.len(), 2);
        assert_eq!(q.drain(), vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn an_open_queue_takes_jobs_until_closed() {
        let q = Queue::open();
        let seen = AtomicUsize::new(0);
        let feed = async {
            for i in 0..5 {
                q.push(i);
                tokio::task::yield_now().await;
            }
            q.close();
        };
        let run = run_workers(
            3,
            &q,
            async || Ok(()),
            |_: &i32| true,
            async |_: &mut (), _| {
                seen.fetch_add(1, Ordering::SeqCst);
                Then::Continue
            },
        );
        let (_, errors) = tokio::join!(feed, run);
        assert!(errors.is_empty());
        assert_eq!(seen.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn threads_take_every_job_once_and_stop_when_asked() {
        let seen = Mutex::new(Vec::new());
        let errors = run_threads(
            3,
            0..10,
            || Ok(()),
            |_: &mut (), j| {
                seen.lock().unwrap().push(j);
                Then::Continue
            },
        );
        assert!(errors.is_empty());
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        // One thread that stops after its first job leaves the rest.
        let taken = AtomicUsize::new(0);
        run_threads(
            1,
            0..10,
            || Ok(()),
            |_: &mut (), _| {
                taken.fetch_add(1, Ordering::SeqCst);
                Then::Stop
            },
        );
        assert_eq!(taken.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn limited_keeps_input_order() {
        let out = limited(2, (0..5).map(|i| async move { i * 10 })).await;
        assert_eq!(out, vec![0, 10, 20, 30, 40]);
    }
}
