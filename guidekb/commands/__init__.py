"""Subcommands: every module here defines `register(app)` and is registered automatically."""
