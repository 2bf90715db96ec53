"""The `atelier` command: `atelier serve` runs a gateway (and, by default, local Ray)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from actors.runtime import init_ray, shutdown_ray, start_reaper, stop_reaper
from actors.settings import SettingError

from .app import build_app
from .auth import AuthSettings, mint_command, signin_link
from .serve_report import ServeReport
from .settings import Settings
from .ws.auth import mint_token

__all__ = ["main"]

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atelier", description="atelier collaboration server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run a gateway (starts local Ray unless RAY_ADDRESS)")
    serve.add_argument("--host", help="bind address (default 127.0.0.1, env ATELIER_HOST)")
    serve.add_argument("--port", type=int, help="port (default 4321, env ATELIER_PORT)")
    serve.add_argument("--data-dir", type=Path, help="embedded store directory (env ATELIER_DATA_DIR)")
    serve.add_argument("--ray-temp-dir", type=Path, help="Ray temp directory (env ATELIER_RAY_TEMP_DIR)")
    token = sub.add_parser(
        "token",
        help="mint a bearer JWT for a user (--user), or a Bridge WebSocket token (needs ATELIER_WS_SECRET)",
    )
    token.add_argument("--user", help="mint a bearer JWT whose sub is this user id")
    token.add_argument("--ttl", type=int, help="JWT lifetime in seconds (default ATELIER_AUTH_TOKEN_TTL)")
    token.add_argument("--claim", action="append", default=[], help="extra JWT claim KEY=VALUE (repeatable)")
    token.add_argument(
        "--data-dir", type=Path, help="where the server keeps its auth secret (env ATELIER_DATA_DIR)"
    )
    token.add_argument("--scope", choices=["read-write", "readonly"], default="read-write")
    token.add_argument("--document", default="*", help="session id, or * for every session")
    token.add_argument(
        "--link",
        action="store_true",
        help="with --user: print the pages' sign-in link (<url>/signin#token=…)",
    )
    token.add_argument(
        "--url",
        help="the server's public URL for --link (default ATELIER_WORKSPACE_PUBLIC_URL, "
        "else http://<ATELIER_HOST>:<ATELIER_PORT>)",
    )
    return parser


def serve(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    report = ServeReport(settings)
    init_ray(
        address=settings.ray_address,
        namespace=settings.actors.namespace,
        num_cpus=settings.ray_num_cpus,
        temp_dir=settings.ray_temp_dir,
        log_to_driver=settings.log_level.upper() == "DEBUG",
        minimal=settings.ray_minimal,
    )
    # A local Ray is this gateway's own: it must not outlive a SIGKILLed gateway by a minute.
    reaper = None if settings.ray_address else start_reaper(settings.ray_temp_dir)
    try:
        app = build_app(settings)
        report.attach(app)
        web.run_app(app, host=settings.host, port=settings.port, print=report.listening)
    finally:
        shutdown_ray(temp_dir=settings.ray_temp_dir, joined=bool(settings.ray_address))
        stop_reaper(reaper)
        report.done()


def _auth(settings: Settings) -> AuthSettings:
    try:
        return AuthSettings.from_env(os.environ, settings.storage.data_dir)
    except ValueError as exc:
        sys.exit(f"atelier: {exc}")


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except SettingError as exc:
        sys.exit(f"atelier: {exc}")
    if args.command == "serve":
        settings = settings.with_overrides(
            host=args.host, port=args.port, data_dir=args.data_dir, ray_temp_dir=args.ray_temp_dir
        )
        try:
            serve(settings.completed(os.environ))
        except ValueError as exc:
            sys.exit(f"atelier: {exc}")
    elif args.command == "token" and args.user:
        settings = settings.with_overrides(data_dir=args.data_dir)
        token = mint_command(_auth(settings), args.user, args.ttl, args.claim)
        if args.link:
            base = (
                args.url
                or settings.actors.workspace.public_base_url
                or f"http://{settings.host}:{settings.port}"
            )
            print(signin_link(base, token))
        else:
            print(token)
    elif args.command == "token":
        if not settings.ws_secret:
            sys.exit("atelier token: set ATELIER_WS_SECRET to the server's secret")
        print(mint_token(settings.ws_secret, args.scope, args.document))


if __name__ == "__main__":
    main()
