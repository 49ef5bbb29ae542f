"""`{{name}}`: a sink (`torvyn:streaming/sink`) that prints each element's
text payload on standard output.

componentize-py builds this module (`app`) into a WebAssembly component;
its `wit_world` bindings come from `wit/world.wit`. To see them:
`componentize-py -d wit bindings .bindings`.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports.types import (
    BackpressureSignal,
    ProcessError_InvalidInput,
    StreamElement,
)


class Sink(exports.Sink):
    def push(self, element: StreamElement) -> BackpressureSignal:
        data = element.payload.read_all()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise Err(ProcessError_InvalidInput(f"payload is not UTF-8: {e}"))
        # Flush each line: the instance is never shut down, so buffered
        # output would be lost.
        print(text, flush=True)
        return BackpressureSignal.READY

    def complete(self) -> None:
        pass
