"""Typed application state keys shared by the gateway's modules."""

from __future__ import annotations

from aiohttp import web

from actors.directory import SessionDirectory

from .metrics import Metrics
from .settings import Settings

__all__ = ["DIRECTORY", "METRICS", "SETTINGS"]

SETTINGS = web.AppKey("settings", Settings)
DIRECTORY = web.AppKey("directory", SessionDirectory)
METRICS = web.AppKey("metrics", Metrics)
