//! `torvyn:capabilities@0.1.0`, the host side: custom metrics, flow
//! metadata and runtime diagnostics for the components granted them. A
//! call without the grant is refused (`denied`, E0500), counted in the
//! component's `capability.denials` and audited.

use super::bindings::torvyn::capabilities::{diagnostics, flow_metadata, metrics};
use super::state::ComponentState;
use crate::custom_metrics::{self, EmitError, Kind};
use crate::error::ErrorCode;
use crate::security::CapabilityKind;

type HostResult<T> = wasmtime::Result<T>;

impl ComponentState {
    /// Whether the service of `kind` was granted; a refusal is counted
    /// and audited, and its E0500 message returned.
    fn service(&self, granted: bool, kind: CapabilityKind, what: &str) -> Result<(), String> {
        if granted {
            if let Some(monitor) = &self.services.monitor {
                monitor.exercise(kind, what);
            }
            return Ok(());
        }
        if let Some(monitor) = &self.services.monitor {
            monitor.deny(kind, what);
        }
        Err(format!(
            "{}: component `{}` is not granted {} (add it to [security.grants.{}])",
            ErrorCode::CapabilityDenied.as_str(),
            self.name,
            kind.id(),
            self.name
        ))
    }

    fn emit(
        &mut self,
        kind: Kind,
        name: String,
        value: f64,
        labels: Vec<metrics::Label>,
    ) -> Result<(), metrics::MetricsError> {
        self.service(
            self.services.custom_metrics,
            CapabilityKind::CustomMetrics,
            &format!("emit `{name}`"),
        )
        .map_err(metrics::MetricsError::Denied)?;
        let labels = labels.into_iter().map(|l| (l.name, l.value)).collect();
        custom_metrics::emit(&self.name, kind, &name, value, labels).map_err(|e| match e {
            EmitError::Invalid(m) => metrics::MetricsError::Invalid(m),
            EmitError::LimitExceeded(m) => metrics::MetricsError::LimitExceeded(m),
        })
    }
}

impl metrics::Host for ComponentState {
    fn counter_add(
        &mut self,
        name: String,
        value: u64,
        labels: Vec<metrics::Label>,
    ) -> HostResult<Result<(), metrics::MetricsError>> {
        Ok(self.emit(Kind::Counter, name, value as f64, labels))
    }

    fn gauge_set(
        &mut self,
        name: String,
        value: f64,
        labels: Vec<metrics::Label>,
    ) -> HostResult<Result<(), metrics::MetricsError>> {
        Ok(self.emit(Kind::Gauge, name, value, labels))
    }

    fn histogram_record(
        &mut self,
        name: String,
        value: f64,
        labels: Vec<metrics::Label>,
    ) -> HostResult<Result<(), metrics::MetricsError>> {
        Ok(self.emit(Kind::Histogram, name, value, labels))
    }
}

impl flow_metadata::Host for ComponentState {
    fn info(&mut self) -> HostResult<Result<flow_metadata::FlowInfo, String>> {
        if let Err(denied) = self.service(
            self.services.flow_metadata,
            CapabilityKind::FlowMetadata,
            "flow-metadata.info",
        ) {
            return Ok(Err(denied));
        }
        let (flow_id, flow_name) = self
            .flow
            .as_deref()
            .map(|f| (f.context.flow_id.clone(), f.context.flow_name.clone()))
            .unwrap_or_default();
        Ok(Ok(flow_metadata::FlowInfo {
            flow_id,
            flow_name,
            node_name: self.name.clone(),
        }))
    }

    fn partition(&mut self) -> HostResult<Result<flow_metadata::PartitionInfo, String>> {
        if let Err(denied) = self.service(
            self.services.flow_metadata,
            CapabilityKind::FlowMetadata,
            "flow-metadata.partition",
        ) {
            return Ok(Err(denied));
        }
        let partition = self
            .flow
            .as_deref()
            .map(|f| f.context.partition)
            .unwrap_or_default();
        Ok(Ok(flow_metadata::PartitionInfo {
            index: partition.index,
            count: partition.count,
        }))
    }
}

impl diagnostics::Host for ComponentState {
    fn query(&mut self) -> HostResult<Result<diagnostics::RuntimeInfo, String>> {
        if let Err(denied) = self.service(
            self.services.diagnostics,
            CapabilityKind::Diagnostics,
            "diagnostics.query",
        ) {
            return Ok(Err(denied));
        }
        Ok(Ok(diagnostics::RuntimeInfo {
            torvyn_version: env!("CARGO_PKG_VERSION").into(),
            contract_version: crate::contracts::version::CURRENT_CONTRACT.into(),
            memory_bytes: self.limiter.memory_bytes as u64,
            memory_limit_bytes: self.limiter.limit() as u64,
            live_buffers: self
                .flow
                .as_deref()
                .map_or(0, |f| f.resources.live_buffers() as u64),
        }))
    }
}
