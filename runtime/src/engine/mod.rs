//! The Wasmtime host: engine configuration, the host side of every Torvyn
//! interface, component compilation (cached by SHA-256) and instances.
//!
//! - [`bindings`]: generated Rust types of the canonical WIT.
//! - [`state`]: the data each component's `Store` holds.
//! - [`component`]: loading, compiling and caching components; which Torvyn
//!   interfaces a component exports.
//! - [`instance`]: one instantiated component and its typed calls.
//! - `epoch`: the ticker thread behind per-call wall-clock deadlines.
//! - `wasi_fs`: `wasi:filesystem` with each use of a grant counted.

mod batch_buffers;
pub use batch_buffers::unpack as unpack_packed_payloads;
#[allow(missing_docs)]
pub mod bindings;
mod capabilities;
pub mod component;
mod epoch;
pub mod error;
pub mod guest_output;
mod host;
pub mod instance;
mod mappings;
mod pool;
pub mod state;
mod wasi_fs;
pub mod wasi_io;

pub use component::{CompiledComponent, ExportSet, TorvynInterface};
pub use epoch::EPOCH_TICK;
pub use error::{EngineError, InvokeError, InvokeFailure};
pub use guest_output::{GuestOutput, GuestOutputs};
pub use instance::ComponentInstance;
pub use state::{ComponentState, FlowContextData, FlowShared};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use wasmtime::component::{HasSelf, Linker};

/// Engine-wide settings (from `[runtime]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Fuel per component call; 0 disables fuel metering.
    pub fuel_per_invocation: u64,
    /// Wall-clock deadline per component call, in milliseconds (epoch
    /// interruption); 0 = none.
    pub max_invocation_time_ms: u64,
    /// Deadline of a `lifecycle.init` call, in milliseconds; 0 = none.
    pub init_timeout_ms: u64,
    /// Deadline of a `lifecycle.teardown` call, in milliseconds; 0 = none.
    pub teardown_timeout_ms: u64,
    /// Linear memory limit per component instance, in bytes.
    pub max_memory_per_component: u64,
    /// Component instances the engine holds at once (its instance pool;
    /// 0 = no pool, each instance allocated on demand); instantiating one
    /// more fails with [`EngineError::InstanceLimit`].
    pub max_component_instances: u32,
    /// Maximum Wasm stack per call, in bytes.
    pub max_wasm_stack: usize,
    /// The memory-mapping limit on-demand instances are kept under (an
    /// instance is refused with [`EngineError::MappingLimit`] when fewer
    /// than an eighth of it are left); `None` takes the kernel's
    /// `vm.max_map_count`. Not configuration: tests set a small one.
    pub max_map_count: Option<u64>,
    /// Where compiled components are cached; `None` keeps them in memory only.
    pub cache_dir: Option<PathBuf>,
    /// Where the guests' stdout and stderr go instead of the process's
    /// (default: inherited, where the sandbox allows them).
    pub guest_outputs: GuestOutputs,
}

impl Default for EngineConfig {
    /// The engine settings of a default `[runtime]` table.
    fn default() -> Self {
        Self::from(&crate::config::RuntimeConfig::default())
    }
}

impl From<&crate::config::RuntimeConfig> for EngineConfig {
    /// The engine settings of a loaded `[runtime]` table; the stack limit,
    /// cache directory and guest outputs are not configuration.
    fn from(runtime: &crate::config::RuntimeConfig) -> Self {
        Self {
            fuel_per_invocation: runtime.fuel_per_invocation,
            max_invocation_time_ms: runtime.max_invocation_time_ms,
            init_timeout_ms: runtime.component_init_timeout_ms,
            teardown_timeout_ms: runtime.component_teardown_timeout_ms,
            max_memory_per_component: runtime.max_memory_per_component.bytes(),
            max_component_instances: runtime.max_component_instances,
            max_wasm_stack: 512 << 10,
            max_map_count: None,
            cache_dir: default_cache_dir(),
            guest_outputs: GuestOutputs::default(),
        }
    }
}

impl EngineConfig {
    /// Same as [`EngineConfig::from`] (kept for existing callers).
    pub fn from_runtime(runtime: &crate::config::RuntimeConfig) -> Self {
        Self::from(runtime)
    }

    /// Whether any deadline needs epoch interruption (and its ticker).
    pub fn uses_epochs(&self) -> bool {
        self.max_invocation_time_ms > 0 || self.init_timeout_ms > 0 || self.teardown_timeout_ms > 0
    }
}

/// `$TORVYN_CACHE_DIR`, else `$XDG_CACHE_HOME/torvyn`, else `~/.cache/torvyn`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TORVYN_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("torvyn"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache").join("torvyn"))
}

/// A configured Wasmtime engine with the Torvyn host linked in. Cheap to
/// clone; share one per process.
#[derive(Clone)]
pub struct WasmEngine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    engine: wasmtime::Engine,
    linker: Linker<ComponentState>,
    config: EngineConfig,
    /// Compiled components by SHA-256 of their bytes (cold path only).
    compiled: Mutex<HashMap<[u8; 32], wasmtime::component::Component>>,
    /// The process's memory-mapping budget, for instances allocated on
    /// demand (`None` with the instance pool, or where it cannot be read).
    mappings: Option<mappings::MappingBudget>,
    /// Advances the epoch while the engine lives (when deadlines are on);
    /// stopped and joined when the last clone of the engine is dropped.
    _ticker: Option<epoch::Ticker>,
}

impl WasmEngine {
    /// Configures Wasmtime (synchronous component calls, fuel if enabled,
    /// epoch interruption if any deadline is set, with its ticker thread)
    /// and links the host interfaces and WASI p2.
    pub fn new(config: EngineConfig) -> Result<Self, EngineError> {
        let mut wasm_config = wasmtime::Config::new();
        wasm_config.wasm_component_model(true);
        // Nothing here uses the async component model; turning its support
        // off makes every synchronous call about 3x cheaper.
        wasm_config.concurrency_support(false);
        wasm_config.consume_fuel(config.fuel_per_invocation > 0);
        wasm_config.epoch_interruption(config.uses_epochs());
        wasm_config.max_wasm_stack(config.max_wasm_stack);
        pool::configure(&mut wasm_config, &config);
        let engine =
            wasmtime::Engine::new(&wasm_config).map_err(|e| EngineError::Setup(e.to_string()))?;

        let mut linker = Linker::<ComponentState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| EngineError::Setup(e.to_string()))?;
        wasi_io::shadow_blocking_io(&mut linker).map_err(|e| EngineError::Setup(e.to_string()))?;
        wasi_fs::shadow_filesystem(&mut linker).map_err(|e| EngineError::Setup(e.to_string()))?;
        bindings::Runtime::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|e| EngineError::Setup(e.to_string()))?;

        let ticker = if config.uses_epochs() {
            Some(epoch::Ticker::start(&engine).map_err(|e| EngineError::Setup(e.to_string()))?)
        } else {
            None
        };
        let mappings = if config.max_component_instances == 0 {
            mappings::MappingBudget::new(config.max_map_count)
        } else {
            None
        };
        Ok(Self {
            inner: Arc::new(EngineInner {
                engine,
                linker,
                config,
                compiled: Mutex::new(HashMap::new()),
                mappings,
                _ticker: ticker,
            }),
        })
    }

    /// The settings in force.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Admits one more on-demand instance under the process's mapping
    /// budget (always, with the instance pool).
    pub(crate) fn admit_instance(&self, component: &str) -> Result<(), EngineError> {
        match &self.inner.mappings {
            Some(budget) => budget.admit().map_err(|full| EngineError::MappingLimit {
                component: component.to_string(),
                used: full.used,
                limit: full.limit,
            }),
            None => Ok(()),
        }
    }

    pub(crate) fn engine(&self) -> &wasmtime::Engine {
        &self.inner.engine
    }

    pub(crate) fn linker(&self) -> &Linker<ComponentState> {
        &self.inner.linker
    }

    pub(crate) fn memory_cache(&self) -> &Mutex<HashMap<[u8; 32], wasmtime::component::Component>> {
        &self.inner.compiled
    }
}
