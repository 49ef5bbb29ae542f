"""`{{name}}`: a source (`torvyn:streaming/source`). Implement `pull`:
return an `OutputElement` for each element and `None` to end the stream.

componentize-py builds this module (`app`) into a WebAssembly component;
its `wit_world` bindings come from `wit/world.wit`.
"""

from typing import Optional

from wit_world import exports
from wit_world.imports.types import BackpressureSignal, OutputElement


class Source(exports.Source):
    def pull(self) -> Optional[OutputElement]:
        return None

    def notify_backpressure(self, signal: BackpressureSignal) -> None:
        pass
