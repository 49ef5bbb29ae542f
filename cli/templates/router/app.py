"""`{{name}}`: a router (`torvyn:filtering/router`) that sends elements with
an even sequence number to port `even` and the others to port `odd`. It
reads only the metadata, so the payload is never copied.

componentize-py builds this module (`app`) into a WebAssembly component;
its `wit_world` bindings come from `wit/world.wit`. To see them:
`componentize-py -d wit bindings .bindings`.
"""

from typing import List

from wit_world import exports
from wit_world.imports.types import StreamElement


class Router(exports.Router):
    def route(self, element: StreamElement) -> List[str]:
        return ["even" if element.meta.sequence % 2 == 0 else "odd"]
