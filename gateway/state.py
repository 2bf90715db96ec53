"""Typed application state keys shared by the gateway's modules."""

from __future__ import annotations

from aiohttp import web
from aiohttp_sse import EventSourceResponse

from actors.client import SessionClient
from storage import Bus

from .metrics import Metrics
from .settings import Settings
from .ws.auth import AuthPolicy
from .ws.channel import ChannelRegistry

__all__ = ["BUS", "CHANNELS", "METRICS", "SESSIONS", "SETTINGS", "SOCKETS", "SSE_STREAMS", "WS_AUTH"]

SETTINGS = web.AppKey("settings", Settings)
SESSIONS = web.AppKey("sessions", SessionClient)
METRICS = web.AppKey("metrics", Metrics)
CHANNELS = web.AppKey("channels", ChannelRegistry)
WS_AUTH = web.AppKey("ws_auth", AuthPolicy)
BUS = web.AppKey("bus", Bus)
SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])
SSE_STREAMS = web.AppKey("sse_streams", set[EventSourceResponse])
