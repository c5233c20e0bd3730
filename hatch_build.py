"""Build hook: ship the template's released history with mlstart, for offline updates.

Hatch runs this file's hook before each build (``[tool.hatch.build.hooks.custom]`` in
pyproject.toml; https://hatch.pypa.io/latest/plugins/build-hook/custom/). From a git checkout
it writes the bundle of the template's released states and of the working tree
(``cli/mlstart/core/template_history.py``) and adds it to the build through the build data's
``force_include`` (https://hatch.pypa.io/latest/plugins/build-hook/reference/#build-data): the
wheel gets ``mlstart/_template.bundle``, the sdist ``template-history.bundle``, which the wheel
built from that sdist (no git history there) ships as it is. Editable installs build the same
history when ``mlstart update`` needs it, so they skip this.

The working tree is what the wheel ships as the template, so the bundle's newest state is the
working tree too, uncommitted changes included (a warning says so): the version a project made
by this build records then names exactly the files it was made from.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_MODULE = Path("cli", "mlstart", "core", "template_history.py")


class TemplateHistoryHook(BuildHookInterface):
    """Add the bundle of the template's released history to the wheel and the sdist."""

    _scratch: str | None = None

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Build (or reuse the sdist's) bundle and force-include it."""
        if version == "editable":
            return
        root = Path(self.root)
        history = _load(root / _MODULE)
        shipped = root / history.SDIST_BUNDLE
        if history.is_work_tree_root(root):
            self._scratch = tempfile.mkdtemp(prefix="mlstart-build-")
            try:
                releases = history.read_releases(root / history.RELEASES_FILE)
                built = history.build_history(
                    root,
                    Path(self._scratch) / history.SDIST_BUNDLE,
                    version=self.metadata.version,
                    releases=releases,
                )
            except history.HistoryError as error:
                raise RuntimeError(f"cannot build the template's history: {error}") from error
            if built.uncommitted:
                self.app.display_warning(
                    "the template has uncommitted changes: the bundle's "
                    f"v{built.current} is the working tree, not a commit"
                )
            bundle = built.bundle
        elif shipped.is_file():
            bundle = shipped
        else:
            raise RuntimeError(
                f"cannot ship the template's history: {root} is neither a git checkout with "
                f"its history nor an sdist holding {history.SDIST_BUNDLE}"
            )
        inside = (
            f"mlstart/{history.PACKAGED_BUNDLE}"
            if self.target_name == "wheel"
            else history.SDIST_BUNDLE
        )
        build_data["force_include"][str(bundle)] = inside

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the scratch folder the bundle was built in."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def _load(path: Path) -> ModuleType:
    """Import the history module by path: mlstart and its dependencies are not installed."""
    spec = importlib.util.spec_from_file_location("_mlstart_template_history", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module
