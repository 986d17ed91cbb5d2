"""The harness's SQLite engine (the platform runs on MySQL; SQLite is for quick local runs)."""
