//! One module per `torvyn` subcommand.

pub mod run;
