"""Load a topic configuration: YAML, ${ENV} interpolation, pydantic validation, errors with lines.

Every error a user can cause names the file, the key path and the line, so a typo in a config file never
ends in a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.models import AppConfig

BUNDLED_DIR = Path(__file__).resolve().parent
BUNDLED_CONFIG = BUNDLED_DIR / "haiti-mss.yaml"

_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

Path_ = tuple[str | int, ...]


class ConfigError(Exception):
    """A user error in a configuration file; str() is the one message to show."""


def _compose(text: str, file: Path) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{file}:{mark.line + 1}" if mark else str(file)
        raise ConfigError(f"{where}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: invalid YAML: {exc}") from None


def _construct(node: yaml.Node, file: Path, path: Path_, lines: dict[Path_, int]) -> Any:
    """Build plain Python values from the node tree, remembering each key's line."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader("").construct_object(key_node)  # scalars only
            if not isinstance(key, str | int | float | bool) or key is None:
                raise ConfigError(f"{file}:{key_node.start_mark.line + 1}: keys must be plain names")
            key = str(key)
            if key in result:
                raise ConfigError(
                    f"{file}:{key_node.start_mark.line + 1}: duplicate key {_dotted((*path, key))}"
                )
            result[key] = _construct(value_node, file, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, file, (*path, i), lines) for i, item in enumerate(node.value)]
    value = yaml.SafeLoader("").construct_object(node)
    if isinstance(value, str):
        value = _interpolate(value, file, path, lines[path])
    return value


def _interpolate(value: str, file: Path, path: Path_, line: int) -> str:
    def repl(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(
            f"{file}:{line}: {_dotted(path)}: environment variable {name} is not set "
            f"(write ${{{name}:-}} to make it optional)"
        )

    return _ENV_RE.sub(repl, value)


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"


def _read_yaml(file: Path) -> tuple[Any, dict[Path_, int]]:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{file}: is a directory, not a config file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
    node = _compose(text, file)
    lines: dict[Path_, int] = {}
    if node is None:
        raise ConfigError(f"{file}: config file is empty")
    return _construct(node, file, (), lines), lines


def _walk_errors(exc: ValidationError) -> Iterator[tuple[Path_, str]]:
    for err in exc.errors(include_url=False):
        yield tuple(err["loc"]), err["msg"].removeprefix("Value error, ")


def load_config(path: str | os.PathLike[str] | None = None) -> AppConfig:
    """Read and validate a topic config; the bundled `haiti-mss` topic when no path is given."""
    file = Path(path) if path else BUNDLED_CONFIG
    data, lines = _read_yaml(file)
    if not isinstance(data, Mapping):
        raise ConfigError(f"{file}:1: the top level must be a mapping of sections (topic, facts, sources…)")
    data = dict(data)
    facts_file: Path | None = None
    facts_lines: dict[Path_, int] = {}
    if isinstance(data.get("facts"), str):
        facts_file = (file.parent / data["facts"]).resolve()
        if not facts_file.exists():
            raise ConfigError(f"{file}:{lines.get(('facts',), 1)}: facts: file {data['facts']} not found")
        data["facts"], facts_lines = _read_yaml(facts_file)
    model_file = _resolve_model(data, file, lines)
    try:
        config = AppConfig.model_validate(data)
    except ValidationError as exc:
        messages = []
        for loc, msg in _walk_errors(exc):
            where_file, where_lines, where_loc = file, lines, loc
            if facts_file is not None and loc and loc[0] == "facts":
                where_file, where_lines, where_loc = facts_file, facts_lines, loc[1:]
            line = _nearest_line(where_lines, where_loc)
            messages.append(f"{where_file}:{line}: {_dotted(loc)}: {msg}")
        raise ConfigError("\n".join(messages)) from None
    if model_file is not None:
        _check_model(config, model_file, f"{file}:{lines.get(('extraction', 'model'), 1)}")
    return config


def _resolve_model(data: dict[str, Any], file: Path, lines: dict[Path_, int]) -> Path | None:
    """`extraction.model` names a file beside the config file: made absolute, and it must exist."""
    extraction = data.get("extraction")
    if not isinstance(extraction, Mapping) or not isinstance(extraction.get("model"), str):
        return None
    name = extraction["model"]
    model_file = (file.parent / name).resolve()
    if not model_file.is_file():
        line = lines.get(("extraction", "model"), 1)
        raise ConfigError(f"{file}:{line}: extraction.model: file {name} not found")
    data["extraction"] = {**extraction, "model": str(model_file)}
    return model_file


def _check_model(config: AppConfig, model_file: Path, where: str) -> None:
    """The model must load and speak only of the topic's facts: a clear error now, not at the first page."""
    from pipeline.facts.learned import ModelError, load_model

    try:
        model = load_model(model_file)
    except ModelError as exc:
        raise ConfigError(f"{where}: extraction.model: {model_file}: {exc}") from None
    unknown = sorted(set(model.facts) - {spec.name for spec in config.facts})
    if unknown:
        raise ConfigError(
            f"{where}: extraction.model: {model_file}: facts not in the topic: {', '.join(unknown)} "
            "(retrain it: scripts/train_facts_model.py)"
        )


def _nearest_line(lines: dict[Path_, int], loc: Path_) -> int:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return 1
