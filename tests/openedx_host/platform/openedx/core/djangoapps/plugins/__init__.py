"""Mirrors the platform's ``openedx/core/djangoapps/plugins`` app: plugin constants and receiver wiring."""
