"""Downloader middlewares, one per module; their order is declared in crawler.settings."""
