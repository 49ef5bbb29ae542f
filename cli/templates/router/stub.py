"""`{{name}}`: a router (`torvyn:filtering/router`). Implement `route`:
return the names of the output ports the element goes to (none drops it).

componentize-py builds this module (`app`) into a WebAssembly component;
its `wit_world` bindings come from `wit/world.wit`.
"""

from typing import List

from wit_world import exports
from wit_world.imports.types import StreamElement


class Router(exports.Router):
    def route(self, element: StreamElement) -> List[str]:
        return []
