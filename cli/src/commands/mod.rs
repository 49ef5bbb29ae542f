//! One module per `torvyn` subcommand.

pub mod check;
pub mod link;
pub mod run;
