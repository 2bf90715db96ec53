"""Signing in: `atelier token --user … --link` prints a link whose fragment the page keeps
for the tab; /api/me says who a token is."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, expect

from gateway.cli import main

from ..harness import AUTH_SECRET, Gateway, bearer
from .conftest import Audit

pytestmark = [pytest.mark.integration]


async def test_the_printed_sign_in_link_signs_the_tab_in(
    web_gateway: Gateway,
    context: BrowserContext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
    audit: Audit,
) -> None:
    monkeypatch.setenv("ATELIER_AUTH_SECRET", AUTH_SECRET)
    main(["token", "--user", "dana", "--link", "--url", web_gateway.url + "/", "--data-dir", str(tmp_path)])
    link = capsys.readouterr().out.strip()
    assert link.startswith(f"{web_gateway.url}/signin#token=")
    page = await context.new_page()
    await page.goto(link)
    await page.wait_for_url(f"{web_gateway.url}/projects")
    await expect(page.locator("#user")).to_contain_text("Signed in as dana")
    assert await page.evaluate("sessionStorage.getItem('atelier.token')") == link.split("#token=", 1)[1]
    # Kept for this tab only: another tab of the same browser starts signed out.
    other = await context.new_page()
    await other.goto(f"{web_gateway.url}/projects")
    await expect(other.get_by_role("alert")).to_contain_text("You are not signed in")
    assert await audit(other, "signed-out") == []
    await other.goto(f"{web_gateway.url}/signin")
    await expect(other.get_by_label("Token")).to_be_visible()
    assert await audit(other, "signin") == []


async def test_api_me_names_the_user_or_refuses(web_gateway: Gateway) -> None:
    status, body = await web_gateway.request("GET", "/api/me", headers=bearer("erin"))
    assert (status, body) == (200, {"user": "erin"})
    status, body = await web_gateway.request("GET", "/api/me", headers={"Authorization": "Bearer nope"})
    assert status == 401
    assert "error" in body
    status, body = await web_gateway.request("GET", "/api/me")
    assert status == 401
    assert "error" in body
