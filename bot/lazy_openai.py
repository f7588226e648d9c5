"""Import the openai SDK with the `__init__` of each `openai.types` package run on first use.

`import openai` runs `openai/types/__init__.py`, which imports every model of every API the SDK
covers (responses, realtime, evals, graders, vector stores...: ~1,300 modules), and
`openai.lib` imports `openai.types.responses` whole: about half the SDK's ~0.8 s of import CPU,
for types this bot never uses (it reads the SSE body itself; it needs the client, the errors
and `models.list()`). `install()` puts a finder first on `sys.meta_path` that creates each
package under `openai.types` with its `__init__` not yet run: its submodules import as usual
(`from openai.types.model import Model` loads model.py alone), and the first lookup of a name the
package does not have yet runs its `__init__`, which binds every name as the eager import would
have (`openai.types.ChatCompletion`, `from openai.types.chat import ...`). Nothing else changes:
modules, and every package outside `openai.types`, load as usual.

Call `install()` before anything imports openai (`python -m bot` does, and so does the test
suite). Once openai is imported it is too late: `install()` then returns False.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
import types
from collections.abc import Sequence

PACKAGE = "openai.types"
_lock = threading.RLock()  # an __init__ runs once, whichever thread looks a name up first
_state: dict[str, _DeferredInitFinder] = {}


def install() -> bool:
    """Defer the `__init__` of `openai.types` packages; False if openai was already imported."""
    if "finder" in _state:
        return True
    if "openai" in sys.modules:
        return False
    finder = _DeferredInitFinder()
    sys.meta_path.insert(0, finder)
    _state["finder"] = finder
    return True


def installed() -> bool:
    """Whether this process imports openai's type packages with deferred `__init__`s."""
    return "finder" in _state


def pending() -> list[str]:
    """The `openai.types` packages imported whose `__init__` has not run yet."""
    return sorted(name for name, m in sys.modules.items() if isinstance(m, _PendingPackage))


def complete(module: types.ModuleType) -> None:
    """Run the deferred `__init__` of `module` now (nothing if it has run)."""
    if isinstance(module, _PendingPackage):
        module._run_init()


class _DeferredInitFinder(importlib.abc.MetaPathFinder):
    """Finds `openai.types` packages the usual way and defers their `__init__`."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE and not fullname.startswith(PACKAGE + "."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.submodule_search_locations is None or spec.loader is None:
            return spec  # a module (or nothing): as usual
        if not isinstance(spec.loader, importlib.abc.Loader):
            return spec
        spec.loader = _DeferredInitLoader(spec.loader)
        return spec


class _DeferredInitLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__class__ = _PendingPackage  # its __init__ runs at the first missing name


class _PendingPackage(types.ModuleType):
    """A package whose `__init__` has not run: the first lookup of a missing name runs it."""

    def __getattr__(self, name: str) -> object:
        if name.startswith("__") and name.endswith("__") and name != "__all__":
            raise AttributeError(name)  # the import system's probes (__path__ is set)
        self._run_init()
        return getattr(self, name)

    def _run_init(self) -> None:
        with _lock:
            if not isinstance(self, _PendingPackage):
                return  # another lookup ran it meanwhile
            loader = self.__spec__.loader if self.__spec__ is not None else None
            assert isinstance(loader, _DeferredInitLoader), self.__name__
            module: types.ModuleType = self
            module.__class__ = types.ModuleType
            loader.loader.exec_module(module)
