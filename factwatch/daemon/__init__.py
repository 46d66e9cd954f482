"""The long-running daemon: schedule, single-instance lease, health, clean shutdown.

Importing this package must not import twisted.internet.reactor: the daemon installs Scrapy's asyncio
reactor first (see `service.install_asyncio_reactor`).
"""

from __future__ import annotations

from factwatch.daemon.lease import DAEMON_LEASE, Lease, LeaseHeld, LeaseInfo, LeaseLost, read_lease
from factwatch.daemon.schedule import SourcePlan, plan_source, plan_sources
from factwatch.daemon.service import Daemon, DaemonOptions, run_daemon

__all__ = [
    "DAEMON_LEASE",
    "Daemon",
    "DaemonOptions",
    "Lease",
    "LeaseHeld",
    "LeaseInfo",
    "LeaseLost",
    "SourcePlan",
    "plan_source",
    "plan_sources",
    "read_lease",
    "run_daemon",
]
