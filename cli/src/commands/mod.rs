//! One module per `torvyn` subcommand.

pub mod bench;
pub mod check;
pub mod completions;
pub mod inspect;
pub mod link;
pub mod prepare;
pub mod run;
pub mod serve;
pub mod trace;
