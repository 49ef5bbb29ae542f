"""`{{name}}`: a filter (`torvyn:filtering/filter`) that keeps the elements
whose sequence number is even. It reads only the metadata, so the payload
is never copied.

componentize-py builds this module (`app`) into a WebAssembly component;
its `wit_world` bindings come from `wit/world.wit`. To see them:
`componentize-py -d wit bindings .bindings`.
"""

from wit_world import exports
from wit_world.imports.types import StreamElement


class Filter(exports.Filter):
    def evaluate(self, element: StreamElement) -> bool:
        return element.meta.sequence % 2 == 0
