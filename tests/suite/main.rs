//! quotabench's integration tests, one binary: one link after a change instead of one
//! per file. Each module is one area; `common` and `conformance_support` are helpers.

mod cli_config_errors;
mod cli_fake;
mod cli_interrupt;
mod cli_run;
mod common;
mod conformance_docs;
mod conformance_faults;
mod conformance_live;
mod conformance_offline;
mod conformance_probe_config;
mod conformance_seeds;
mod conformance_support;
mod deadline;
mod disk;
mod echo;
mod history_cuts;
mod hostile_input;
mod latency_truth;
mod layers;
mod live_tenant;
mod mutation;
mod open_model;
mod outcomes;
mod preflight;
mod report_html;
mod report_junit;
mod report_summary;
mod signals;
mod third_api;
mod transport;
mod verdicts;
mod worker_conn;
