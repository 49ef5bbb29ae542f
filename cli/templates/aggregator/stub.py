"""`{{name}}`: an aggregator (`torvyn:aggregation/aggregator`). Implement
`ingest` (return an `OutputElement` to emit one now, or `None`) and `flush`
(the stream ended: the elements still to emit).

componentize-py builds this module (`app`) into a WebAssembly component;
its `wit_world` bindings come from `wit/world.wit`.
"""

from typing import List, Optional

from wit_world import exports
from wit_world.imports.types import OutputElement, StreamElement


class Aggregator(exports.Aggregator):
    def ingest(self, element: StreamElement) -> Optional[OutputElement]:
        return None

    def flush(self) -> List[OutputElement]:
        return []
