"""`{{name}}`: a sink (`torvyn:streaming/sink`). Implement `push` (return
`BackpressureSignal.READY`, or `PAUSE` to slow the producer) and `complete`
(the stream ended).

componentize-py builds this module (`app`) into a WebAssembly component;
its `wit_world` bindings come from `wit/world.wit`.
"""

from wit_world import exports
from wit_world.imports.types import BackpressureSignal, StreamElement


class Sink(exports.Sink):
    def push(self, element: StreamElement) -> BackpressureSignal:
        return BackpressureSignal.READY

    def complete(self) -> None:
        pass
