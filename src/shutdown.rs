//! Stopping on request. Ctrl-C and SIGTERM ask every stage to stop at its
//! next transaction boundary; a second signal of either kind ends the
//! process at once. Library code takes a [`Shutdown`] (as mini-redis's
//! handlers do), so tests can trigger it without sending signals.

use crate::error::{ExitClass, Failure};
use tokio::sync::watch;

/// Which signal asked the run to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    pub fn class(self) -> ExitClass {
        match self {
            Signal::Interrupt => ExitClass::Interrupted,
            Signal::Terminate => ExitClass::Terminated,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "interrupted (Ctrl-C)",
            Signal::Terminate => "terminated (SIGTERM)",
        }
    }
}

/// A handle that tells whether a stop was requested, and waits for one.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<Option<Signal>>);

/// The other end: requests the stop.
pub struct Trigger(watch::Sender<Option<Signal>>);

impl Trigger {
    pub fn request(&self, s: Signal) {
        self.0.send_if_modified(|cur| {
            let first = cur.is_none();
            if first {
                *cur = Some(s);
            }
            first
        });
    }
}

impl Shutdown {
    /// A handle nothing triggers but its [`Trigger`].
    pub fn new() -> (Trigger, Shutdown) {
        let (tx, rx) = watch::channel(None);
        (Trigger(tx), Shutdown(rx))
    }

    /// Listen for Ctrl-C and SIGTERM (on the current runtime).
    pub fn from_signals() -> Shutdown {
        let (trigger, shutdown) = Shutdown::new();
        tokio::spawn(async move {
            let first = next_signal().await;
            eprintln!(
                "\n{}: stopping at the next transaction boundary (send it again to abort now)",
                first.name()
            );
            trigger.request(first);
            let again = next_signal().await;
            std::process::exit(again.class().code().into());
        });
        shutdown
    }

    pub fn requested(&self) -> Option<Signal> {
        *self.0.borrow()
    }

    pub fn is_requested(&self) -> bool {
        self.requested().is_some()
    }

    /// Resolves once a stop is requested (at once if it already was).
    pub async fn wait(&mut self) {
        // An error means the trigger is gone: no stop can come any more.
        if self.0.wait_for(Option::is_some).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// The error a command returns when it stopped on request: exit 130 or
    /// 143, with what was kept.
    pub fn error(&self, kept: &str) -> anyhow::Error {
        let s = self.requested().unwrap_or(Signal::Interrupt);
        Failure::error(s.class(), format!("{}; {kept}", s.name()))
    }
}

async fn next_signal() -> Signal {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return Signal::Interrupt;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => Signal::Interrupt,
            _ = term.recv() => Signal::Terminate,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        Signal::Interrupt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_signal_wins_and_wakes_waiters() {
        let (t, s) = Shutdown::new();
        assert!(!s.is_requested());
        let mut w = s.clone();
        let waiter = tokio::spawn(async move { w.wait().await });
        t.request(Signal::Terminate);
        t.request(Signal::Interrupt);
        waiter.await.unwrap();
        assert_eq!(s.requested(), Some(Signal::Terminate));
        let e = s.error("committed work is kept");
        assert_eq!(crate::error::classify(&e), ExitClass::Terminated);
    }
}
