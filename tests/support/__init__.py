"""Helpers shared by the test suites (loopback servers, page builders)."""
