"""`{{name}}`: a stateless transform (`torvyn:streaming/processor`). As
generated it is a pass-through: each element comes out unchanged. Change
the bytes in `process` to transform them.

componentize-py builds this module (`app`) into a WebAssembly component;
its `wit_world` bindings come from `wit/world.wit`. To see them:
`componentize-py -d wit bindings .bindings`.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import buffer_ops
from wit_world.imports.types import (
    OutputElement,
    ProcessError_Internal,
    ProcessError_Unavailable,
    ProcessResult,
    ProcessResult_Emit,
    StreamElement,
)


class Processor(exports.Processor):
    def process(self, input: StreamElement) -> ProcessResult:
        # Reading the payload copies it from host memory (a measured copy).
        # Pass-through: the output is the input's bytes (`data.upper()`
        # would upper-case them). The output must be a buffer this
        # component owns, so even a pass-through copies.
        data = input.payload.read_all()
        # The output is a new host buffer: allocate, append, freeze.
        try:
            buffer = buffer_ops.allocate(len(data))
        except Err as e:
            raise Err(ProcessError_Unavailable(f"allocate failed: {e.value}"))
        try:
            buffer.append(data)
        except Err as e:
            raise Err(ProcessError_Internal(f"append failed: {e.value}"))
        buffer.set_content_type(input.meta.content_type)
        return ProcessResult_Emit(OutputElement(meta=input.meta, payload=buffer.freeze()))
