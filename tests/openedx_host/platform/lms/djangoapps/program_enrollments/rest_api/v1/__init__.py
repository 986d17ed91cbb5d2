"""Minimal stand-in of the built-in app's REST API, version 1."""
