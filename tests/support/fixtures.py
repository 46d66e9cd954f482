"""What several tests (and bench/facts_eval.py) need about tests/fixtures: the builder, the fact names."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# The ten facts of the bundled topic, exactly as ../shared/DESIGN.md names them (a contract).
FACT_NAMES = frozenset(
    {
        "mandate_end",
        "mandate_vote",
        "un_resolution",
        "kenya_police_deployed",
        "kenya_police_pledged",
        "personnel_deployed",
        "personnel_authorized",
        "contingents",
        "commander",
        "displaced",
    }
)

_BUILDER = "fixture_build_archives"


def archive_builder() -> ModuleType:
    """tests/fixtures/build_archives.py as a module (it is a script, not a package member); loaded once."""
    loaded = sys.modules.get(_BUILDER)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(_BUILDER, FIXTURES / "build_archives.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_BUILDER] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module
