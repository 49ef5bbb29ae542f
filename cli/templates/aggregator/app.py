"""`{{name}}`: an aggregator (`torvyn:aggregation/aggregator`) that emits a
summary ("N elements, B bytes") every 5 elements, and one for the rest
when the stream ends. It reads only the payload sizes, never the bytes.

componentize-py builds this module (`app`) into a WebAssembly component;
its `wit_world` bindings come from `wit/world.wit`. To see them:
`componentize-py -d wit bindings .bindings`.
"""

from typing import List, Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import buffer_ops
from wit_world.imports.types import (
    ElementMeta,
    OutputElement,
    ProcessError_Internal,
    ProcessError_Unavailable,
    StreamElement,
)

# Elements per summary.
EVERY = 5
CONTENT_TYPE = "text/plain"

# The current window (elements, bytes) and the summaries emitted so far.
# One instance runs one call at a time; module state lives as long as the
# component instance.
window_count = 0
window_bytes = 0
emitted = 0


def summary() -> OutputElement:
    """The current window's summary, starting a new window."""
    global window_count, window_bytes, emitted
    data = f"{window_count} elements, {window_bytes} bytes".encode()
    window_count, window_bytes = 0, 0
    try:
        buffer = buffer_ops.allocate(len(data))
    except Err as e:
        raise Err(ProcessError_Unavailable(f"allocate failed: {e.value}"))
    try:
        buffer.append(data)
    except Err as e:
        raise Err(ProcessError_Internal(f"append failed: {e.value}"))
    buffer.set_content_type(CONTENT_TYPE)
    meta = ElementMeta(sequence=emitted, timestamp_ns=0, content_type=CONTENT_TYPE)
    emitted += 1
    return OutputElement(meta=meta, payload=buffer.freeze())


class Aggregator(exports.Aggregator):
    def ingest(self, element: StreamElement) -> Optional[OutputElement]:
        global window_count, window_bytes
        window_count += 1
        window_bytes += element.payload.size()
        return summary() if window_count == EVERY else None

    def flush(self) -> List[OutputElement]:
        return [summary()] if window_count > 0 else []
