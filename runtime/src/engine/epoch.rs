//! Epoch interruption: one ticker thread per engine advances Wasmtime's
//! epoch every [`EPOCH_TICK`]; each call sets its store's deadline a number
//! of ticks ahead, and guest code that runs past it traps with
//! `Trap::Interrupt`. Cheaper than fuel: compiled code checks one counter
//! at loop heads and function entries instead of counting every operator.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the engine's epoch advances: the granularity of deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Ticks a deadline of `ms` milliseconds needs: rounded up, plus one
/// because the current tick may be about to end. 0 = no deadline (a
/// deadline far enough away never to be reached).
pub(crate) fn ticks_for(ms: u64) -> u64 {
    if ms == 0 {
        return NEVER;
    }
    let tick = EPOCH_TICK.as_millis().max(1) as u64;
    ms.div_ceil(tick).saturating_add(1)
}

/// A deadline that is never reached (Wasmtime adds it to the current
/// epoch, so it must leave room for the epoch to grow).
pub(crate) const NEVER: u64 = u64::MAX / 2;

/// The ticker thread; dropping it stops and joins the thread.
pub(crate) struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Starts the thread. It holds only a weak reference to the engine.
    pub(crate) fn start(engine: &wasmtime::Engine) -> std::io::Result<Self> {
        let engine = engine.weak();
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("torvyn-epoch".into())
            .spawn(move || {
                // Sleeps one tick; wakes at once when the sender is dropped.
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EPOCH_TICK) {
                    match engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_and_zero_means_never() {
        assert_eq!(ticks_for(0), NEVER);
        assert_eq!(ticks_for(1), 2);
        assert_eq!(ticks_for(5000), 5001);
    }

    /// `(module (func (export "spin") (loop (br 0))))`, binary.
    const SPIN: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
        0x03, 0x02, 0x01, 0x00, // one function of type 0
        0x07, 0x08, 0x01, 0x04, b's', b'p', b'i', b'n', 0x00, 0x00, // export "spin"
        0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // loop { br 0 }
    ];

    #[test]
    fn the_ticker_interrupts_a_spinning_guest_and_stops_when_dropped() {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engine = wasmtime::Engine::new(&config).unwrap();
        let ticker = Ticker::start(&engine).unwrap();
        let module = wasmtime::Module::new(&engine, SPIN).unwrap();
        let mut store = wasmtime::Store::new(&engine, ());
        store.set_epoch_deadline(NEVER);
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
        let spin = instance
            .get_typed_func::<(), ()>(&mut store, "spin")
            .unwrap();
        store.set_epoch_deadline(ticks_for(5));
        let err = spin.call(&mut store, ()).unwrap_err();
        assert_eq!(
            err.downcast_ref::<wasmtime::Trap>(),
            Some(&wasmtime::Trap::Interrupt)
        );
        // Dropping joins the thread (a hang here fails the test by timeout).
        drop(ticker);
    }
}
