//! `parity-router`: a router (`torvyn:filtering/router`) that picks output
//! ports from the element's advisory `meta.sequence`, without reading the
//! payload.
//!
//! Config (`lifecycle.init`, JSON object): `mode` (default `"parity"`):
//!
//! - `"parity"`: `["even"]` for an even sequence, `["odd"]` for an odd one;
//! - `"both"`: `["even", "odd"]` for every element (fan-out);
//! - `"none"`: `[]` for every element (drop);
//! - `"bogus"`: `["nowhere"]`, a port no edge declares (the runtime must
//!   fail the flow).
//!
//! Any other mode makes `init` return `invalid-input`. The canonical
//! `content-router` world exports no lifecycle, so this component uses its
//! own world: the canonical one plus `torvyn:streaming/lifecycle`.

wit_bindgen::generate!({
    inline: r#"
        package torvyn-test:parity-router;

        world parity-router {
            import torvyn:streaming/types@0.1.0;

            export torvyn:filtering/router@0.1.0;
            export torvyn:streaming/lifecycle@0.1.0;
        }
    "#,
    path: [
        "../../../wit/streaming",
        "../../../wit/resources",
        "../../../wit/filtering",
        "../../../wit/aggregation",
    ],
    world: "torvyn-test:parity-router/parity-router",
    // Every interface belongs to another package than the world's.
    generate_all,
});

use exports::torvyn::filtering::router::Guest as RouterGuest;
use exports::torvyn::streaming::lifecycle::Guest as LifecycleGuest;
use guest_util::{Config, Global};
use torvyn::streaming::types::{ProcessError, StreamElement};

#[derive(Default, Clone, Copy)]
enum Mode {
    #[default]
    Parity,
    Both,
    None,
    Bogus,
}

#[derive(Default)]
struct ParityRouter {
    mode: Mode,
}

static STATE: Global<ParityRouter> = Global::new();

impl LifecycleGuest for ParityRouter {
    fn init(config: String) -> Result<(), ProcessError> {
        let parsed = Config::parse(&config).map_err(ProcessError::InvalidInput)?;
        let mode = match parsed.str_opt("mode").map_err(ProcessError::InvalidInput)? {
            None | Some("parity") => Mode::Parity,
            Some("both") => Mode::Both,
            Some("none") => Mode::None,
            Some("bogus") => Mode::Bogus,
            Some(other) => {
                return Err(ProcessError::InvalidInput(format!(
                    "parity-router: unknown mode `{other}` (expected parity, both, none or bogus)"
                )))
            }
        };
        STATE.set(ParityRouter { mode });
        Ok(())
    }

    fn teardown() {}
}

impl RouterGuest for ParityRouter {
    fn route(element: StreamElement) -> Result<Vec<String>, ProcessError> {
        let ports: &[&str] = match STATE.with(|s| s.mode) {
            Mode::Parity if element.meta.sequence % 2 == 0 => &["even"],
            Mode::Parity => &["odd"],
            Mode::Both => &["even", "odd"],
            Mode::None => &[],
            Mode::Bogus => &["nowhere"],
        };
        Ok(ports.iter().map(|p| p.to_string()).collect())
    }
}

export!(ParityRouter);
