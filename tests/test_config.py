"""The config loader: the bundled topic loads; every user error names file, key path and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import BUNDLED_CONFIG, ConfigError, load_config
from tests.support.fixtures import FACT_NAMES


def write(tmp_path: Path, text: str, name: str = "topic.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_topic_declares_the_ten_design_facts() -> None:
    config = load_config(None)
    assert config.topic.name == "haiti-mss"
    assert {f.name for f in config.facts} == FACT_NAMES
    assert config.sources, "the bundled topic must crawl something"
    assert BUNDLED_CONFIG.exists()


def test_broken_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "topic:\n  name: x\n  keywords: [a, b\nsources: []\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert ":4:" in message or ":3:" in message
    assert "invalid YAML" in message


def test_wrong_type_names_key_path_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "topic:\n  name: demo\nchanges:\n  min_sources: many\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert f"{path}:4: changes.min_sources:" in message


def test_unknown_key_in_a_list_item_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "topic:\n  name: demo\nsources:\n  - name: a\n    url: http://a.example/feed\n    shedule: 5m\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}:6: sources[0].shedule:" in str(info.value)


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="empty"):
        load_config(write(tmp_path, ""))


def test_environment_interpolation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = 'topic:\n  name: demo\nroutes:\n  - name: mail\n    urls: ["${FW_TEST_URL}", "${FW_TEST_OPT:-}"]\n'
    path = write(tmp_path, text)
    monkeypatch.delenv("FW_TEST_URL", raising=False)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}:5: routes[0].urls[0]: environment variable FW_TEST_URL is not set" in str(info.value)
    monkeypatch.setenv("FW_TEST_URL", "json://127.0.0.1:9/hook")
    config = load_config(path)
    assert config.routes[0].urls[0] == "json://127.0.0.1:9/hook"


def test_facts_file_errors_point_into_that_file(tmp_path: Path) -> None:
    write(tmp_path, "- name: only\n  kind: nonsense\n", name="facts.yaml")
    path = write(tmp_path, "topic:\n  name: demo\nfacts: facts.yaml\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(tmp_path / "facts.yaml") in str(info.value)
    missing = write(tmp_path, "topic:\n  name: demo\nfacts: gone.yaml\n", name="t2.yaml")
    with pytest.raises(ConfigError, match=r"t2.yaml:3: facts: file gone.yaml not found"):
        load_config(missing)


def test_duplicate_source_names_are_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "topic:\n  name: demo\nsources:\n  - {name: a, url: 'http://a.example/f'}\n"
        "  - {name: a, url: 'http://b.example/f'}\n",
    )
    with pytest.raises(ConfigError, match=r"topic.yaml:3: sources: .*'a' is used twice"):
        load_config(path)


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("{every: banana}", "schedule.every: 'banana' is not a duration"),
        ("{cron: '99 * * * *'}", "schedule.cron: '99 * * * *' is not a crontab expression"),
    ],
)
def test_bad_schedules_are_config_errors_with_their_line(tmp_path: Path, schedule: str, message: str) -> None:
    path = write(
        tmp_path,
        "topic:\n  name: demo\nsources:\n  - name: x\n    url: http://a.example/feed\n"
        f"    schedule: {schedule}\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}:6: sources[0].{message}" in str(info.value)
