"""Make `pipeline.facts` the project package, not this test directory.

Under pytest's default import mode `tests/` lands on sys.path, so `pipeline` can resolve to the
namespace package `tests/pipeline` and `pipeline.facts` to this directory. Putting the project root
first and dropping such namespace stand-ins lets the real packages load. (A `pythonpath = ["."]` in
the pytest settings would make this unnecessary.)
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
for _name in ("pipeline.facts", "pipeline"):
    _module = sys.modules.get(_name)
    if _module is not None and getattr(_module, "__file__", None) is None:
        del sys.modules[_name]
