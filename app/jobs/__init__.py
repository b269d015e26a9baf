"""Scheduler entry points: thin wrappers that open an app context and call one service."""
