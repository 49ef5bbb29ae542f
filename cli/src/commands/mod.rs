//! One module per `torvyn` subcommand.

pub mod bench;
pub mod build;
pub mod check;
pub mod completions;
pub mod doctor;
pub mod host_services;
pub mod init;
pub mod inspect;
pub mod link;
pub mod pack;
pub mod prepare;
pub mod publish;
pub mod run;
pub mod serve;
pub mod trace;
