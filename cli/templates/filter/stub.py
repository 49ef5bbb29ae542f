"""`{{name}}`: a filter (`torvyn:filtering/filter`). Implement `evaluate`:
return True to keep the element, False to drop it.

componentize-py builds this module (`app`) into a WebAssembly component;
its `wit_world` bindings come from `wit/world.wit`.
"""

from wit_world import exports
from wit_world.imports.types import StreamElement


class Filter(exports.Filter):
    def evaluate(self, element: StreamElement) -> bool:
        return True
