//! The inspection API's routes: request → handle call → JSON (or
//! Prometheus text) response.

use crate::counters::CounterSnapshot;
use crate::error::HostError;
use crate::flow::FlowInspection;
use crate::host::TorvynHandle;
use crate::ids::FlowId;
use serde_json::{json, Value};
use std::io::Read;
use tiny_http::{Header, Method, Request, Response};
use torvyn_runtime::config::ObservabilityLevel;
use torvyn_runtime::error::{Coded, ErrorCode};

/// Largest request body read (a level switch is a few bytes).
const MAX_BODY: u64 = 4096;

pub(super) struct Router {
    pub(super) handle: TorvynHandle,
    pub(super) token: Option<String>,
    pub(super) prometheus: bool,
}

/// A response before it is sent.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Reply {
    fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: value.to_string(),
        }
    }

    fn error(status: u16, code: ErrorCode, message: &str, help: &str) -> Self {
        Self::json(
            status,
            &json!({"error": {"code": code.as_str(), "message": message, "help": help}}),
        )
    }

    fn not_found(path: &str) -> Self {
        Self::error(
            404,
            ErrorCode::ConstraintViolation,
            &format!("no endpoint {path}"),
            "see GET /metrics, GET /flows, GET /flows/{id}, POST /flows/{id}/pause|resume|drain|cancel, GET|PUT /level",
        )
    }

    fn method_not_allowed(method: &Method, path: &str) -> Self {
        Self::error(
            405,
            ErrorCode::ConstraintViolation,
            &format!("{method} is not allowed on {path}"),
            "GET reads; POST controls a flow; PUT /level switches the level",
        )
    }

    fn host(e: &HostError) -> Self {
        let status = match e {
            HostError::UnknownFlow(_) => 404,
            HostError::InvalidTransition(_) => 409,
            HostError::HostStopped => 503,
            _ => 500,
        };
        Self::error(status, e.code(), &e.to_string(), &e.help())
    }
}

impl Router {
    pub(super) fn answer(&self, mut request: Request) {
        let reply = self.route(&mut request);
        let mut response = Response::from_string(reply.body).with_status_code(reply.status);
        if let Ok(header) = Header::from_bytes("Content-Type", reply.content_type) {
            response.add_header(header);
        }
        if let Err(e) = request.respond(response) {
            tracing::debug!(error = %e, "inspection API: the client went away");
        }
    }

    fn authorized(&self, request: &Request) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        request.headers().iter().any(|h| {
            h.field.equiv("Authorization")
                && h.value
                    .as_str()
                    .strip_prefix("Bearer ")
                    .is_some_and(|given| same(given.trim().as_bytes(), token.as_bytes()))
        })
    }

    fn route(&self, request: &mut Request) -> Reply {
        if !self.authorized(request) {
            return Reply::error(
                401,
                ErrorCode::CapabilityDenied,
                "missing or wrong bearer token",
                "send `Authorization: Bearer <inspection_token>`",
            );
        }
        let url = request.url().to_owned();
        let path = url.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let method = request.method().clone();
        match (&method, segments.as_slice()) {
            (Method::Get, ["metrics"]) if self.prometheus => self.metrics(),
            (Method::Get, ["flows"]) => self.flows(),
            (Method::Get, ["flows", id]) => self.with_flow(id, |id| self.flow(id)),
            (Method::Post, ["flows", id, action]) => {
                self.with_flow(id, |id| self.control(id, action, path))
            }
            (Method::Get, ["level"]) => self.level(),
            (Method::Get, ["audit"]) => audit(),
            (Method::Put | Method::Post, ["level"]) => self.set_level(request),
            (_, ["metrics"]) if self.prometheus => Reply::method_not_allowed(&method, path),
            (_, ["flows"] | ["flows", _] | ["flows", _, _] | ["level"] | ["audit"]) => {
                Reply::method_not_allowed(&method, path)
            }
            _ => Reply::not_found(path),
        }
    }

    fn with_flow(&self, id: &str, f: impl FnOnce(FlowId) -> Reply) -> Reply {
        let number = id.strip_prefix("flow-").unwrap_or(id).parse::<u64>();
        match number {
            Ok(n) => f(FlowId::new(n)),
            Err(_) => Reply::error(
                404,
                ErrorCode::ConstraintViolation,
                &format!("`{id}` is not a flow id"),
                "write a flow id as flow-7 or 7 (GET /flows lists them)",
            ),
        }
    }

    fn metrics(&self) -> Reply {
        match self.handle.prometheus_metrics() {
            Ok(text) => Reply {
                status: 200,
                content_type: "text/plain; version=0.0.4; charset=utf-8",
                body: text,
            },
            Err(e) => Reply::host(&e),
        }
    }

    fn flows(&self) -> Reply {
        match self.handle.metrics() {
            Ok(flows) => Reply::json(
                200,
                &Value::Array(
                    flows
                        .iter()
                        .map(|f| {
                            let mut flow = json!({
                                "id": f.id.to_string(),
                                "name": f.name,
                                "state": f.state.to_string(),
                                "counters": counters_json(&f.counters),
                            });
                            // A replica is listed as a flow of its own,
                            // naming the replicated flow it belongs to.
                            if let Some(r) = f.replica {
                                flow["replica"] = json!({
                                    "of": r.parent.to_string(),
                                    "index": r.index,
                                    "count": r.count,
                                });
                            }
                            flow
                        })
                        .collect(),
                ),
            ),
            Err(e) => Reply::host(&e),
        }
    }

    fn flow(&self, id: FlowId) -> Reply {
        match self.handle.inspect(id) {
            Ok(inspection) => Reply::json(200, &inspection_json(&inspection)),
            Err(e) => Reply::host(&e),
        }
    }

    fn control(&self, id: FlowId, action: &str, path: &str) -> Reply {
        let result = match action {
            "pause" => self.handle.pause(id),
            "resume" => self.handle.resume(id),
            "drain" => self.handle.drain(id),
            "cancel" => self
                .handle
                .cancel(id)
                .and_then(|()| self.handle.inspect(id).map(|i| i.state)),
            _ => return Reply::not_found(path),
        };
        match result {
            Ok(state) => Reply::json(
                200,
                &json!({"id": id.to_string(), "state": state.to_string()}),
            ),
            Err(e) => Reply::host(&e),
        }
    }

    fn level(&self) -> Reply {
        Reply::json(
            200,
            &json!({"level": self.handle.observability_level().as_str()}),
        )
    }

    fn set_level(&self, request: &mut Request) -> Reply {
        let mut body = String::new();
        if let Err(e) = request.as_reader().take(MAX_BODY).read_to_string(&mut body) {
            return Reply::error(
                400,
                ErrorCode::InvalidFieldType,
                &e.to_string(),
                "send UTF-8",
            );
        }
        let name = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("level").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| body.trim().trim_matches('"').to_owned());
        match ObservabilityLevel::from_name(&name) {
            Some(level) => {
                let previous = self.handle.set_observability_level(level);
                Reply::json(
                    200,
                    &json!({"level": level.as_str(), "previous": previous.as_str()}),
                )
            }
            None => Reply::error(
                400,
                ErrorCode::InvalidFieldType,
                &format!("`{name}` is not an observability level"),
                "send {\"level\": \"off\" | \"production\" | \"diagnostic\"}",
            ),
        }
    }
}

/// Compares two secrets in time independent of where they differ.
/// `GET /audit`: the records of the `event-sink` audit target
/// (`[security] audit_target = "event-sink"`), oldest first, each as the
/// audit log file writes it, and how many older ones were dropped.
fn audit() -> Reply {
    let (events, dropped) = torvyn_runtime::security::event_sink_records();
    let events: Vec<Value> = events
        .iter()
        .filter_map(|e| serde_json::from_str(&e.to_json()).ok())
        .collect();
    Reply::json(200, &json!({ "events": events, "dropped": dropped }))
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn counters_json(c: &CounterSnapshot) -> Value {
    json!({
        "elements_pulled": c.elements_pulled,
        "elements_delivered": c.elements_delivered,
        "elements_dropped": c.elements_dropped,
        "errors": c.errors,
        "payload_copies": c.payload_copies,
        "payload_bytes": c.payload_bytes,
        "all_copies": c.all_copies,
        "all_bytes": c.all_bytes,
        "live_buffers": c.live_buffers,
        "peak_queue_depth": c.peak_queue_depth,
        "batches": c.batches,
        "events_dropped": c.events_dropped,
    })
}

/// A flow's inspection: identity, state, live counters, failure, and its
/// report in the one shape `torvyn run --format json` prints too
/// ([`FlowReport`](torvyn_runtime::reactor::FlowReport)'s `Serialize`),
/// merged in at the top level.
fn inspection_json(i: &FlowInspection) -> Value {
    let mut inspection = json!({
        "id": i.id.to_string(),
        "name": i.name,
        "run": i.run,
        "state": i.state.to_string(),
        "priority": format!("{:?}", i.priority).to_ascii_lowercase(),
        "arbiter": i.arbiter,
        "counters": counters_json(&i.counters),
        "duration_us": Value::Null,
        "stages": [],
        "streams": [],
        "failure": i.failure.as_ref().map(|d| json!({
            "code": d.code.as_str(),
            "message": d.message,
            "help": d.help,
        })),
    });
    let report = i.report.as_ref().map(serde_json::to_value);
    if let (Some(Ok(Value::Object(report))), Value::Object(fields)) = (report, &mut inspection) {
        fields.extend(report);
    }
    inspection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_same_compares_whole_secrets() {
        assert!(same(b"s3cret", b"s3cret"));
        assert!(!same(b"s3cret", b"s3creT"));
        assert!(!same(b"s3cret", b"s3cre"));
        assert!(!same(b"", b"x"));
    }
}
