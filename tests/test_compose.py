"""docker-compose.yml and the Dockerfile wired to what the project really reads.

No Docker engine runs here, so the file is parsed and checked against the code: the command exists in
the CLI, environment variables are ones factwatch reads, the health check hits the endpoint's real
address, the database URL points at the postgres service with its user and database, volumes are
declared, and required variables fail loudly (`${VAR:?message}`) the way compose interpolates them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

import factwatch.health as health
from factwatch.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
HEALTH_URL = f"http://{health.DEFAULT_HEALTH_HOST}:{health.DEFAULT_HEALTH_PORT}{health.HEALTH_PATH}"

_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:[?-])(?P<arg>[^}]*))?\}")


class MissingVariable(Exception):
    pass


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's rules for ${VAR}, ${VAR:-default} and ${VAR:?error} (empty counts as unset)."""

    def repl(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        current = env.get(name, "")
        if current:
            return current
        if op == ":?":
            raise MissingVariable(f"{name}: {arg}")
        return arg if op == ":-" else ""

    return _VAR.sub(repl, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def app(compose: dict[str, Any]) -> dict[str, Any]:
    service: dict[str, Any] = compose["services"]["factwatch"]
    return service


def known_variables() -> set[str]:
    """FACTWATCH_* names the code and the bundled topic read."""
    sources = [
        ROOT / "factwatch" / "settings.py",
        ROOT / "factwatch" / "logs.py",
        Path(health.__file__),
        ROOT / "config" / "haiti-mss.yaml",
    ]
    names: set[str] = set()
    for path in sources:
        names.update(re.findall(r"FACTWATCH_[A-Z_]+", path.read_text(encoding="utf-8")))
    return names


def test_the_daemon_runs_a_real_cli_command(app: dict[str, Any]) -> None:
    command = app["command"]
    assert command[:2] == ["factwatch", "daemon"]
    assert "daemon" in COMMANDS
    args = build_parser().parse_args(command[1:])
    assert args.command == "daemon" and callable(args.func)
    assert app["build"] == "." and DOCKERFILE.is_file()


def test_environment_names_are_ones_factwatch_reads(app: dict[str, Any]) -> None:
    names = {name for name in app["environment"] if name.startswith("FACTWATCH_")}
    assert {"FACTWATCH_DB", "FACTWATCH_HEALTH_PORT"} <= names
    unknown = names - known_variables()
    assert not unknown, f"compose sets variables factwatch never reads: {sorted(unknown)}"


def test_database_url_points_at_the_postgres_service(compose: dict[str, Any], app: dict[str, Any]) -> None:
    env = {"POSTGRES_PASSWORD": "s3cret_pw"}
    url = make_url(interpolate(app["environment"]["FACTWATCH_DB"], env))
    postgres = compose["services"]["postgres"]
    pg_env = {k: interpolate(str(v), env) for k, v in postgres["environment"].items()}
    assert url.drivername == "postgresql+psycopg"
    assert url.host == "postgres" and (url.port or 5432) == 5432
    assert (url.username, url.password, url.database) == (
        pg_env["POSTGRES_USER"],
        pg_env["POSTGRES_PASSWORD"],
        pg_env["POSTGRES_DB"],
    )
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    check = " ".join(postgres["healthcheck"]["test"])
    assert "pg_isready" in check and pg_env["POSTGRES_USER"] in check


def test_required_variables_fail_with_a_message(compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    uses = re.findall(r"\$\{POSTGRES_PASSWORD[^}]*\}", text)
    assert len(uses) >= 2 and all(use.startswith("${POSTGRES_PASSWORD:?") for use in uses)
    with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
        interpolate(compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"], {})
    with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
        interpolate(compose["services"]["factwatch"]["environment"]["FACTWATCH_DB"], {})


def test_health_check_hits_the_endpoint_factwatch_serves(app: dict[str, Any]) -> None:
    assert app["environment"]["FACTWATCH_HEALTH_PORT"] == str(health.DEFAULT_HEALTH_PORT)
    assert health.resolve_health_host(None) == health.DEFAULT_HEALTH_HOST
    assert HEALTH_URL in " ".join(app["healthcheck"]["test"])
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert HEALTH_URL in dockerfile
    assert f"FACTWATCH_HEALTH_PORT={health.DEFAULT_HEALTH_PORT}" in dockerfile
    assert re.search(r'^CMD \["factwatch", "daemon"\]', dockerfile, re.M)


def test_volumes_are_declared_and_mounted(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used = set()
    for service in compose["services"].values():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/")):
                used.add(source)
    assert used and used <= declared
    pg_mounts = compose["services"]["postgres"]["volumes"]
    assert any(m.endswith(":/var/lib/postgresql/data") for m in pg_mounts)


def test_mailpit_catches_the_email_route(compose: dict[str, Any], app: dict[str, Any]) -> None:
    import apprise

    mailpit = compose["services"]["mailpit"]
    ports = " ".join(mailpit["ports"])
    assert "1025:1025" in ports and "8025:8025" in ports
    smtp_url = interpolate(app["environment"]["FACTWATCH_SMTP_URL"], {})
    target = apprise.Apprise.instantiate(smtp_url)
    assert target is not None, smtp_url
    assert (target.smtp_host, target.port) == ("mailpit", 1025)
    # The bundled topic's email route reads exactly this variable.
    assert "${FACTWATCH_SMTP_URL" in (ROOT / "config" / "haiti-mss.yaml").read_text(encoding="utf-8")
