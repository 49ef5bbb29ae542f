"""`{{name}}`: a source (`torvyn:streaming/source`) that produces numbered
greetings, then ends the stream.

componentize-py builds this module (`app`) into a WebAssembly component;
its `wit_world` bindings come from `wit/world.wit`. To see them:
`componentize-py -d wit bindings .bindings`.
"""

from typing import Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import buffer_ops
from wit_world.imports.types import (
    BackpressureSignal,
    ElementMeta,
    OutputElement,
    ProcessError_Internal,
    ProcessError_Unavailable,
)

# How many elements the source produces before it ends the stream.
COUNT = 100
CONTENT_TYPE = "text/plain"

# Elements produced so far. One instance runs one call at a time; module
# state lives as long as the component instance.
produced = 0


class Source(exports.Source):
    def pull(self) -> Optional[OutputElement]:
        global produced
        if produced >= COUNT:
            return None
        data = f"Hello, Torvyn! ({produced + 1})".encode()
        try:
            buffer = buffer_ops.allocate(len(data))
        except Err as e:
            raise Err(ProcessError_Unavailable(f"allocate failed: {e.value}"))
        try:
            buffer.append(data)
        except Err as e:
            raise Err(ProcessError_Internal(f"append failed: {e.value}"))
        buffer.set_content_type(CONTENT_TYPE)
        # The runtime assigns the sequence and timestamp.
        meta = ElementMeta(sequence=produced, timestamp_ns=0, content_type=CONTENT_TYPE)
        produced += 1
        return OutputElement(meta=meta, payload=buffer.freeze())

    def notify_backpressure(self, signal: BackpressureSignal) -> None:
        pass
