"""The pytest side of the plugin: the only modules besides plugin.py that import pytest.

Importing this package loads the modules every pytest run needs (``EVERY_RUN``), with Python's own
loader. pytest imports an installed plugin's modules through its assertion-rewriting hook, which reads
their cached bytecode one object at a time (``marshal.load`` on an open file): about ten times slower
than Python's loader, paid in every run of every project that has the plugin installed. These modules
hold no ``assert`` for pytest to rewrite (a test checks it); every other module loads on first use, the
usual way.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

__all__ = ["EVERY_RUN"]

EVERY_RUN = (
    "_startup",
    "_report.current",
    "_plugin.options",
    "_plugin.run",
    "_plugin.item",
    "hookspec",
)
"""The package's modules that every run loads, each after those it imports."""


def _load(name: str) -> None:
    """Import ``pytest_llmconfidence.<name>`` from its source file with Python's loader (unless it is
    imported already, or its source is not a file: then the usual way)."""
    full = f"{__name__.rpartition('.')[0]}.{name}"
    if full in sys.modules:
        return
    parent, _, child = full.rpartition(".")
    package = importlib.import_module(parent)
    path = os.path.join(os.path.dirname(package.__file__ or ""), child + ".py")
    spec = importlib.util.spec_from_file_location(full, path) if os.path.isfile(path) else None
    if spec is None or spec.loader is None:
        importlib.import_module(full)
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[full]
        raise
    setattr(package, child, module)


for _name in EVERY_RUN:
    _load(_name)
