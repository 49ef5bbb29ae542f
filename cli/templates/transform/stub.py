"""`{{name}}`: a transform (`torvyn:streaming/processor`). Implement
`process`: return `ProcessResult_Emit` with a new output element, or
`ProcessResult_Drop()`; raise `Err(ProcessError_...)` on failure.

componentize-py builds this module (`app`) into a WebAssembly component;
its `wit_world` bindings come from `wit/world.wit`.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports.types import ProcessError_Internal, ProcessResult, StreamElement


class Processor(exports.Processor):
    def process(self, input: StreamElement) -> ProcessResult:
        raise Err(ProcessError_Internal("process is not implemented yet"))
