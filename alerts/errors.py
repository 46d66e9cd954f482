"""Errors a user can cause in alert configuration."""

from __future__ import annotations


class AlertConfigError(Exception):
    """A route cannot work as configured; str() names the route and the redacted URL."""
