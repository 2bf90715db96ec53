"""The pages people use (design workspace, Bridge preview, workspace chat) and their bundle."""

from __future__ import annotations

from aiohttp import web

from .assets import AssetStore as AssetStore
from .routes import ASSETS as ASSETS
from .routes import routes as routes

__all__ = ["ASSETS", "AssetStore", "routes", "setup_web"]


def setup_web(app: web.Application, assets: AssetStore | None = None) -> None:
    """Add the pages and their assets to ``app``."""
    app[ASSETS] = assets or AssetStore()
    app.add_routes(routes)
