"""Typed application state keys shared by the gateway's modules."""

from __future__ import annotations

from aiohttp import web

from actors.directory import SessionDirectory
from storage import Bus

from .metrics import Metrics
from .settings import Settings
from .ws.auth import AuthPolicy
from .ws.channel import ChannelRegistry

__all__ = ["BUS", "CHANNELS", "DIRECTORY", "METRICS", "SETTINGS", "SOCKETS", "WS_AUTH"]

SETTINGS = web.AppKey("settings", Settings)
DIRECTORY = web.AppKey("directory", SessionDirectory)
METRICS = web.AppKey("metrics", Metrics)
CHANNELS = web.AppKey("channels", ChannelRegistry)
WS_AUTH = web.AppKey("ws_auth", AuthPolicy)
BUS = web.AppKey("bus", Bus)
SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])
