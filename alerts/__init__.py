"""Alerts: a durable outbox in the store, delivered through apprise per route.

Modules: `outbox` (enqueue inside the caller's transaction), `deliver` (Dispatcher: retries, backoff,
digests, exactly-once per route), `render` (sandboxed Jinja templates, defaults in `templates/`),
`health` (source error / recovery / silence policy), `redact` (secrets out of logs and output),
`config` (routes and settings). Importing this package stays light: apprise loads only with `deliver`.
"""
