// Token collection sink: assembles tokens into text and displays them.

wit_bindgen::generate!({
    world: "sink",
    path: "wit",
    generate_all, // not in the spec: see README.md
});

use exports::torvyn::streaming::sink::Guest;
use torvyn::streaming::types::{StreamElement, BackpressureSignal, ProcessError};
use std::cell::{Cell, RefCell};

struct TokenCollector;

// Not the spec's `static mut`s, which warn (static_mut_refs): see README.md.
thread_local! {
    static COLLECTED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static TOKEN_COUNT: Cell<u64> = const { Cell::new(0) };
}

impl Guest for TokenCollector {
    fn push(element: StreamElement) -> Result<BackpressureSignal, ProcessError> {
        let data = element.payload.read_all();

        COLLECTED.with_borrow_mut(|collected| {
            collected.extend_from_slice(&data);
            TOKEN_COUNT.set(TOKEN_COUNT.get() + 1);

            // Print a running status every 10 tokens.
            if TOKEN_COUNT.get() % 10 == 0 {
                let text = String::from_utf8_lossy(collected);
                eprintln!("[{} tokens] {}", TOKEN_COUNT.get(), text);
            }
        });

        Ok(BackpressureSignal::Ready)
    }

    fn complete() -> Result<(), ProcessError> {
        COLLECTED.with_borrow(|collected| {
            let text = String::from_utf8_lossy(collected);
            println!("\n── Assembled Text ──");
            println!("{text}");
            println!("\n── Stats ──");
            println!("Total tokens received: {}", TOKEN_COUNT.get());
        });
        Ok(())
    }
}

export!(TokenCollector);
