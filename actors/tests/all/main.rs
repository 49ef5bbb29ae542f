//! End-to-end tests of the actor layer with real components: one file per
//! behaviour, one test binary (linked once).

mod common;

mod backpressure_soak;
mod cancel_mid_flow;
mod failing_flow;
mod flow_supervision;
mod guest_output;
mod inspect_states;
mod inspection_api;
mod instance_pool;
mod latency_origin;
mod level_histograms;
mod metrics_retention;
mod otlp_export;
mod outcome_retention;
mod pause_resume_mid_flow;
mod reliability;
mod replicas;
mod retroactive_trace;
mod run_to_completion;
mod spread_over_arbiters;
mod subscribe_lifecycle;
mod supervision;
mod system_metrics;
mod thousand_flows;
mod trace_context;
