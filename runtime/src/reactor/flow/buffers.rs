//! The flow's side of buffer ownership: forwarding an element's buffer,
//! releasing it to the pool, and taking ownership of what a component
//! produced (see [`crate::resources`]).

use super::Flow;
use crate::engine::bindings::types::OutputElement;
use crate::engine::{FlowContextData, FlowShared};
use crate::reactor::clock::Tick;
use crate::reactor::element::QueuedElement;
use crate::reactor::error::FlowError;
use crate::resources::{
    BufferId, ComponentId, PoolConfig, ResourceError, ResourceLimits, ResourceManager,
};

impl Flow {
    /// Node `n` passes `element`'s buffer on unchanged.
    pub(super) fn forward(&mut self, n: usize, element: QueuedElement) -> Result<(), FlowError> {
        self.shared_mut()
            .resources
            .forward(element.buffer)
            .map_err(|source| ownership(&self.nodes[n].name, source))
    }

    /// Node `n` is done with `buffer`.
    pub(super) fn release(&mut self, n: usize, buffer: BufferId) -> Result<(), FlowError> {
        self.shared_mut()
            .resources
            .release(buffer)
            .map_err(|source| ownership(&self.nodes[n].name, source))
    }

    /// Releases `buffer` if it is still alive (a flow failing with an
    /// element in hand). Harmless when it was released already: the
    /// handle's generation no longer matches, and nothing happens.
    pub(super) fn release_if_held(&mut self, buffer: BufferId) {
        if let Some(shared) = self.shared.as_deref_mut() {
            let _ = shared.resources.end_lend(buffer);
            let _ = shared.resources.release(buffer);
        }
    }

    /// Takes ownership of a component's output buffer.
    pub(super) fn accept(
        &mut self,
        n: usize,
        output: OutputElement,
        sequence: u64,
        timestamp_ns: u64,
    ) -> Result<QueuedElement, FlowError> {
        let OutputElement { meta, payload } = output;
        let id = ComponentId(n as u32);
        let name = &self.nodes[n].name;
        let Some(shared) = self.shared.as_deref_mut() else {
            return Err(FlowError::Stalled {
                flow: self.settings.flow_name.clone(),
            });
        };
        let resources = &mut shared.resources;
        let buffer = resources
            .resolve(payload.rep(), "output")
            .map_err(|source| ownership(name, source))?;
        resources
            .accept_output(id, buffer)
            .map_err(|source| ownership(name, source))?;
        if !meta.content_type.is_empty() {
            resources
                .set_content_type(buffer, &meta.content_type)
                .map_err(|source| ownership(name, source))?;
        }
        self.probe_output(buffer);
        Ok(QueuedElement {
            sequence,
            timestamp_ns,
            buffer,
            enqueued: Tick::default(),
        })
    }

    /// The state guest calls share (never out of the flow between calls).
    pub(super) fn shared_mut(&mut self) -> &mut FlowShared {
        // The shared state is only ever out of `self.shared` during a guest
        // call, and guest calls hand it back before returning.
        self.shared.get_or_insert_with(|| {
            Box::new(FlowShared {
                resources: ResourceManager::new(
                    PoolConfig::default(),
                    ResourceLimits::default(),
                    0,
                    0,
                ),
                context: FlowContextData::default(),
            })
        })
    }
}

/// A resource error of `component`'s as the flow reports it (E0300s).
pub(super) fn ownership(component: &str, source: ResourceError) -> FlowError {
    FlowError::Ownership {
        component: component.to_string(),
        source,
    }
}
