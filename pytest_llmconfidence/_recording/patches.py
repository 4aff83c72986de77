"""vcrpy's patches of the HTTP libraries: built once per process, put in place while a cassette is active.

vcrpy builds its patches anew for every cassette it enters: ``mock.patch`` objects, a subclass of each
stub bound to that cassette and, for httpx, two failed imports of optional transports that search the
whole ``sys.path``. That was most of the cost of starting a test's cassette. Here each group of patches
(``httpx``, ``httpx2``, ``httplib``...: vcrpy's ``skip_patchers`` names) is built once, for a stand-in
cassette (``_Active``) that forwards every question to the innermost active cassette of the group;
activating a cassette puts the group's replacements in place with plain ``setattr``, and deactivating it
puts back what was there, as ``mock.patch`` would. Cassettes nest as vcrpy's do: the innermost active
cassette that patches a library answers its requests, and a library patched over by another tool (a
vcrpy cassette of the test's own) is patched again by a cassette activated inside it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from typing import Any

from . import vcr_internals as _vcr

__all__ = ["OPENAI", "WHOLE_TEST", "Patched", "start", "stop"]

OPENAI = ("httpx", "httpx2")
"""The groups of the openai client's HTTP libraries (httpx2 for openai 3, httpx before): both, always, as
the client (and openai with its library) may load only after a cassette starts (a fresh xdist worker)."""
WHOLE_TEST = tuple(
    name
    for name, module in _vcr.PATCHER_MODULES.items()
    if name in ("httplib", *OPENAI) or module in _vcr.LOADED_BEFORE_VCR
)
"""The groups a whole-test cassette patches: openai's libraries, ``http.client``, and what the tests
themselves loaded before vcrpy imported every library it knows of. Every group is built with the others,
before any is in place: vcrpy's urllib3 stubs subclass urllib3's classes as they are when imported."""

_MISSING = object()
"""What an attribute inherited from a base class (not in the patched object's own namespace) was."""
_lock = threading.RLock()
_built: dict[str, tuple[list[tuple[Any, str, Any]], list[Any]]] = {}
"""Per group: its replacements ``(object, attribute, replacement)``, and its urllib3 connection removers."""
_stacks: dict[str, list[Any]] = {}
"""Per group: the active cassettes that patch it, innermost last."""
_last: dict[str, Any] = {}
"""Per group: the cassette that was active last, which a connection object outliving it still talks to."""


class _Active:
    """The cassette vcrpy's patches of one group are built for: it forwards to the innermost active one."""

    custom_patches = ()

    def __init__(self, group: str) -> None:
        self._group = group
        self.skip_patchers = tuple(name for name in _vcr.PATCHER_MODULES if name != group)

    @property
    def _path(self) -> str:  # vcrpy names its stub subclasses after it when building
        return str(getattr(_innermost(self._group), "_path", f"<the active cassette of {self._group}>"))

    def __getattr__(self, name: str) -> Any:
        found = _innermost(self._group)
        if found is None:
            raise AttributeError(name)
        return getattr(found, name)


def _innermost(group: str) -> Any:
    try:
        return _stacks[group][-1]
    except (KeyError, IndexError):  # none active (a thread still talking as the last one stopped)
        return _last.get(group)


def _group(group: str) -> tuple[list[tuple[Any, str, Any]], list[Any]]:
    if not _built:  # on first need, all at once, while nothing is patched
        for name in WHOLE_TEST:
            _built[name] = _vcr.replacements(_Active(name))
    return _built[group]


class Patched:
    """One cassette's patches in place (``start``), until ``stop``."""

    __slots__ = ("cassette", "groups", "saved")

    def __init__(self, cassette: Any, groups: tuple[str, ...]) -> None:
        self.cassette = cassette
        self.groups = groups
        self.saved: list[tuple[str, Any, str, Any]] = []
        """What this activation replaced, to put back: ``(group, object, attribute, what was there)``."""


_active: list[Patched] = []
"""The activations in place, innermost last."""


def start(cassette: Any, groups: Iterable[str]) -> Patched:
    """Route the HTTP libraries of ``groups`` through ``cassette`` until ``stop``."""
    patched = Patched(cassette, tuple(groups))
    with _lock:
        for group in patched.groups:
            replacements, _ = _group(group)
            for target, attribute, new in replacements:
                found = vars(target).get(attribute, _MISSING)
                if found is not new:
                    patched.saved.append((group, target, attribute, found))
                    setattr(target, attribute, new)
            _stacks.setdefault(group, []).append(cassette)
        _active.append(patched)
    return patched


def stop(patched: Patched) -> None:
    """Take ``patched``'s cassette away; the libraries no active cassette patches are put back.

    Activations end innermost first; one that ends before an activation inside it (which found the
    libraries patched already) hands what it would put back to the innermost one still holding them.
    """
    with _lock:
        if patched not in _active:
            return
        position = _active.index(patched)
        del _active[position]
        inside = _active[position:]
        for group in patched.groups:
            stack = _stacks[group]
            del stack[len(stack) - 1 - stack[::-1].index(patched.cassette)]
            _last[group] = patched.cassette
            if not stack:
                for remover in _group(group)[1]:  # vcrpy's stub connections leave urllib3's pools
                    _vcr.drop_stub_connections(remover)
        for entry in reversed(patched.saved):
            group, target, attribute, found = entry
            holder = next((other for other in reversed(inside) if group in other.groups), None)
            if holder is not None:
                holder.saved.insert(0, entry)
            elif found is _MISSING:
                with contextlib.suppress(AttributeError):
                    delattr(target, attribute)
            else:
                setattr(target, attribute, found)
        patched.saved.clear()
