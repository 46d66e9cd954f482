"""Write docs/configuration.md from the config models, so the reference cannot drift from the code.

Run `python scripts/gen_config_doc.py`; tests/test_docs.py fails when the committed file is stale.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.models import AppConfig  # noqa: E402

DOC = ROOT / "docs" / "configuration.md"

HEADER = """# Configuration reference

A topic is one YAML file (the bundled one is `config/haiti-mss.yaml`). Every section but `topic` is
optional. Strings may use `${VAR}` (required environment variable) or `${VAR:-default}`; secrets such as
apprise URLs with passwords belong in the environment, never in the file. Durations are written like
`30s`, `15m`, `1h`, `1d`. `facts` may be a list or the name of a YAML file beside the topic file.

This file is generated from the models by `scripts/gen_config_doc.py`; do not edit it by hand.
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in args if a is not type(None)) + (
            " or null" if type(None) in args else ""
        )
    if origin in (list, tuple, set):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping of {_type_name(args[0])} to {_type_name(args[1])}" if args else "mapping"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"`{annotation.__name__}`"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        try:
            value = field.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return ""
        if isinstance(value, BaseModel):
            return "(see section)"
        return f"`{value!r}`" if value not in ([], {}) else "empty"
    if field.default is PydanticUndefined:
        return "**required**"
    return f"`{field.default!r}`"


def _models(model: type[BaseModel], seen: dict[str, type[BaseModel]]) -> None:
    for field in model.model_fields.values():
        for candidate in [field.annotation, *typing.get_args(field.annotation)]:
            for inner in [candidate, *typing.get_args(candidate)]:
                if isinstance(inner, type) and issubclass(inner, BaseModel) and inner.__name__ not in seen:
                    seen[inner.__name__] = inner
                    _models(inner, seen)


def render() -> str:
    out = [HEADER]
    seen: dict[str, type[BaseModel]] = {}
    _models(AppConfig, seen)
    out.append("## Sections\n")
    out.append("| key | type | default | meaning |\n|---|---|---|---|")
    for name, field in AppConfig.model_fields.items():
        out.append(
            f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | {field.description or ''} |"
        )
    for model_name, model in seen.items():
        doc = " ".join((model.__doc__ or "").split())
        out.append(f"\n## `{model_name}`\n")
        if doc:
            out.append(doc + "\n")
        out.append("| key | type | default | meaning |\n|---|---|---|---|")
        for name, field in model.model_fields.items():
            meaning = " ".join((field.description or "").split())
            out.append(f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | {meaning} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
