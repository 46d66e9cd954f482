"""Import every module that defines tables, so metadata (and Alembic) sees them all."""

from __future__ import annotations

import importlib
import logging

from pipeline.store import models  # noqa: F401

logger = logging.getLogger(__name__)

# Tables owned by other packages; listed here so one import registers the whole schema.
for _name in ("pipeline.store.crawl_models", "pipeline.store.ops_models", "alerts.models"):
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # pragma: no cover - only while a package is being written
        if exc.name != _name:
            raise
