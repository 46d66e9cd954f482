"""Errors a user can cause: each one's str() is the whole message, shown without a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad arguments or input named in the message; the CLI exits with status 2."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Every module's user-error class, gathered lazily so start-up stays light."""
    from config.loader import ConfigError
    from factwatch.settings import SettingsError
    from pipeline.store import StoreError

    types: list[type[BaseException]] = [UserError, ConfigError, SettingsError, StoreError]
    for module, name in (("alerts.errors", "AlertConfigError"), ("crawler.warcindex", "ArchiveError")):
        try:
            mod = __import__(module, fromlist=[name])
            types.append(getattr(mod, name))
        except (ImportError, AttributeError):
            pass
    return tuple(types)
