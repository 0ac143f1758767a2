"""Old import paths of moved modules, kept for one release (issue 19; docs/code-map.md).

Until 0.2 the archiver's modules sat flat at the top of ``archiver/``; they now live in packages by
role. Settings, ``-s`` overrides and code that name an old dotted path (``-s
'DOWNLOADER_MIDDLEWARES={"archiver.resilience.GuardedRedirectMiddleware": 600}'``,
``load_object("archiver.report.CrawlReport")``, ``import archiver.state``) still work: importing an
old path gives the new module itself (the same objects: ``archiver.state.CrawlState is
archiver.runtime.state.CrawlState``), or, for a module split in several, a module that looks each
name up in the new ones. Nothing here is imported until an old path is.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Any

#: old dotted path → the module(s) its names live in now (looked up in this order)
MOVED: dict[str, tuple[str, ...]] = {
    "archiver.compact": ("archiver.runtime.compact",),
    "archiver.compression": ("archiver.warc.compression",),
    "archiver.crawl": ("archiver.runtime.crawl",),
    "archiver.dataset": ("archiver.runtime.dataset",),
    "archiver.dates": ("archiver.extract.dates",),
    "archiver.diskfull": ("archiver.runtime.diskfull",),
    "archiver.extract.chain": ("pipelines.chain",),
    "archiver.extract.commands": ("archiver.offline.extractcommands",),
    "archiver.extract.fixtures": ("archiver.offline.fixtures",),
    "archiver.extract.pipeline_support": ("pipelines.base",),
    "archiver.extract.worker": ("archiver.runtime.extractworker",),
    "archiver.extractpool": ("archiver.runtime.extractpool",),
    "archiver.feedstorage": ("archiver.extensions.feedstorage",),
    "archiver.gcpolicy": ("archiver.extensions.gcpolicy",),
    "archiver.gone": ("archiver.runtime.gone",),
    "archiver.incremental": ("archiver.downloadermiddlewares.conditional",),
    "archiver.listing": ("archiver.extract.listing", "archiver.site"),
    "archiver.lock": ("archiver.runtime.lock",),
    "archiver.maxsize": ("archiver.downloadermiddlewares.maxsize",),
    "archiver.packaging": ("archiver.runtime.packaging",),
    "archiver.paging": ("archiver.runtime.paging",),
    "archiver.politeness": ("archiver.downloadermiddlewares.useragent",
                            "archiver.downloadermiddlewares.crawldelay"),
    "archiver.preflight": ("archiver.runtime.preflight",),
    "archiver.progress": ("archiver.extensions.progress",),
    "archiver.refusals": ("archiver.downloadermiddlewares.refusals",),
    "archiver.report": ("archiver.extensions.report",),
    "archiver.resilience": ("archiver.downloadermiddlewares.retry",
                            "archiver.downloadermiddlewares.incomplete",
                            "archiver.downloadermiddlewares.httpcompression",
                            "archiver.downloadermiddlewares.redirect", "archiver.site"),
    "archiver.shutdown": ("archiver.extensions.shutdown",),
    "archiver.skips": ("archiver.exceptions",),
    "archiver.spiderbase": ("spiders.base",),
    "archiver.state": ("archiver.runtime.state",),
}

#: names moved out of a module that stays: module → {name: the module it lives in now}
MOVED_NAMES: dict[str, dict[str, str]] = {
    # extraction + the pipelines: archiver.extract imports neither Scrapy nor the pipelines
    "archiver.extract": {"extract_record": "pipelines.chain"},
}


class _SplitModule(ModuleType):
    """An old module whose contents now live in several: each name is looked up in them in turn."""

    def __init__(self, name: str, targets: Sequence[str]) -> None:
        super().__init__(name, f"moved: its names now live in {', '.join(targets)}")
        self.__targets = tuple(targets)

    def __getattr__(self, name: str) -> Any:
        for target in self.__targets:
            module = importlib.import_module(target)
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        return sorted({n for t in self.__targets for n in dir(importlib.import_module(t))})


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, targets: Sequence[str]) -> None:
        self.targets = tuple(targets)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # a placeholder; exec_module puts the real module in its place

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__
        warnings.warn(f"{name} moved to {' / '.join(self.targets)}; the old path goes in the next release",
                      DeprecationWarning, stacklevel=2)
        if len(self.targets) == 1:
            sys.modules[name] = importlib.import_module(self.targets[0])
        else:
            sys.modules[name] = _SplitModule(name, self.targets)
        # the import system hands back (and binds in the parent package) what sys.modules now holds


class _MovedNamesLoader(importlib.abc.Loader):
    """The module's own loader, then a module ``__getattr__`` for the names moved out of it."""

    def __init__(self, loader: importlib.abc.Loader, names: dict[str, str]) -> None:
        self.loader = loader
        self.names = names

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        names, module_name = self.names, module.__name__

        def moved_name(name: str) -> Any:
            if name not in names:
                raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
            warnings.warn(f"{module_name}.{name} moved to {names[name]}.{name}; the old path goes in the "
                          "next release", DeprecationWarning, stacklevel=2)
            return getattr(importlib.import_module(names[name]), name)

        module.__getattr__ = moved_name  # type: ignore[method-assign]


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Finds the old paths of :data:`MOVED`; gives the modules of :data:`MOVED_NAMES` their moved names."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        targets = MOVED.get(fullname)
        if targets is not None:
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(targets))
        names = MOVED_NAMES.get(fullname)
        if names is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _MovedNamesLoader(spec.loader, names)
        return spec


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once), first: it answers for the names of its tables only."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
