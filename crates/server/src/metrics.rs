//! Prometheus metrics at `/metrics` (text exposition format): commands by workflow and outcome, rule violations
//! by code, and request latency by route.

use crate::problem::ApiResult;
use crate::Shared;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};
use std::time::Duration;

/// The server's metrics, in a registry of its own (several servers can run in one process, as in the tests).
pub struct Metrics {
    registry: Registry,
    commands: IntCounterVec,
    violations: IntCounterVec,
    latency: HistogramVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Fresh counters:
    /// `tuanji_commands_total{workflow, outcome}` (outcome `ok`, `refused` (a rule or the input), `denied`
    /// (401/403/404/412), `failed` (5xx)), `tuanji_rule_violations_total{code}`,
    /// `tuanji_http_request_duration_seconds{method, route, status}`.
    pub fn new() -> Self {
        let registry = Registry::new();
        let commands = IntCounterVec::new(
            Opts::new(
                "tuanji_commands_total",
                "State-changing commands by workflow and outcome",
            ),
            &["workflow", "outcome"],
        )
        .expect("valid metric");
        let violations = IntCounterVec::new(
            Opts::new(
                "tuanji_rule_violations_total",
                "Commands refused by a League rule, by rule code",
            ),
            &["code"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "tuanji_http_request_duration_seconds",
                "HTTP request latency",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        for c in [
            Box::new(commands.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(violations.clone()),
            Box::new(latency.clone()),
        ] {
            registry.register(c).expect("metric registered once");
        }
        Metrics {
            registry,
            commands,
            violations,
            latency,
        }
    }

    /// Counts a command's outcome (and its rule code when a rule refused it).
    pub fn command<T>(&self, workflow: &str, res: &ApiResult<T>) {
        let outcome = match res {
            Ok(_) => "ok",
            Err(e) => {
                if let Some(code) = &e.0.rule {
                    self.violations.with_label_values(&[code.as_str()]).inc();
                }
                match e.0.status {
                    400 | 409 | 413 | 415 | 422 => "refused",
                    s if s >= 500 => "failed",
                    _ => "denied",
                }
            }
        };
        self.commands.with_label_values(&[workflow, outcome]).inc();
    }

    /// Records one request's latency.
    pub fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.latency
            .with_label_values(&[method, route, &status.to_string()])
            .observe(took.as_secs_f64());
    }

    /// The text exposition of every metric.
    pub fn text(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// `GET /metrics`.
pub async fn render(State(st): State<Shared>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.text(),
    )
}
