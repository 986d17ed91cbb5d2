"""Stand-in of the platform's ``openedx/core/lib`` package."""
