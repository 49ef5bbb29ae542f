//! One module per `torvyn` subcommand.

pub mod bench;
pub mod check;
pub mod flow_setup;
pub mod link;
pub mod run;
