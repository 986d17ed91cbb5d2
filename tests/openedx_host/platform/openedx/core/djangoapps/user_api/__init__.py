"""Stand-in of the platform's ``openedx/core/djangoapps/user_api`` (the retirement signals only)."""
