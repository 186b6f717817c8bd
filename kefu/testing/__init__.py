"""Helpers for Kefu's tests (no Django import here: safe to use from any test)."""

from .live import LiveServer, LiveServerError, free_port, live_servers, prepare_database

__all__ = ["LiveServer", "LiveServerError", "free_port", "live_servers", "prepare_database"]
