"""A message a link cannot encode costs that message only: the link goes on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from actors.link import Link, LinkServer, LinkSettings, dial
from actors.link.link import RemoteFailure

pytestmark = pytest.mark.integration


async def test_unencodable_requests_and_replies_fail_alone(tmp_path: Path) -> None:
    def on_link(link: Link) -> None:
        def handle(link: Link, message: list[Any]) -> None:
            _, request_id, _, args = message
            # Echo: a reply of a value msgpack cannot pack must not stop the link.
            link.reply(request_id, "\ud800" if args == ["bad reply"] else args)

        link.handler = handle

    settings = LinkSettings(tcp_host="127.0.0.1", socket_dir=tmp_path)
    server = LinkServer("echo", settings, on_link)
    address = await server.start()
    link, reader = await dial(address, "client", settings)
    try:
        with pytest.raises(ValueError, match="cannot be encoded"):
            await asyncio.wait_for(link.request(1, [2**64]), 10)
        assert await asyncio.wait_for(link.request(1, ["after"]), 10) == ["after"]
        with pytest.raises(RemoteFailure, match="cannot be encoded"):
            await asyncio.wait_for(link.request(1, ["bad reply"]), 10)
        assert await asyncio.wait_for(link.request(1, ["still"]), 10) == ["still"]
        assert not link.closed
    finally:
        await link.close()
        await server.stop()
        await asyncio.gather(reader, return_exceptions=True)
