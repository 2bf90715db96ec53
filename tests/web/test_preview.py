"""The Bridge live preview in a real chromium: agents' REST ops and theme changes show live."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, expect

from ..harness import Gateway
from .conftest import Audit

pytestmark = [pytest.mark.integration]

SPEC = {
    "root": "container",
    "elements": {
        "container": {
            "type": "Card",
            "props": {"className": "p-6"},
            "children": ["heading", "form", "mystery"],
        },
        "heading": {"type": "Heading", "props": {"level": 2, "children": "Login"}},
        "form": {"type": "Form", "props": {}, "children": ["email"]},
        "email": {
            "type": "Input",
            "props": {"label": "Email", "type": "email", "placeholder": "you@example.com"},
        },
        "mystery": {"type": "FancyCarousel", "props": {"children": "slides"}},
    },
}


async def _background(context: BrowserContext, key: str) -> str:
    page = context.pages[0]
    color: str = await page.eval_on_selector(
        f'#preview [data-key="{key}"]', "el => getComputedStyle(el).backgroundColor"
    )
    return color


async def test_an_agents_op_adds_a_button_and_a_theme_change_restyles_it(
    web_gateway: Gateway, context: BrowserContext, audit: Audit
) -> None:
    session_id = await web_gateway.create(name="Login Page", spec=SPEC)
    page = await context.new_page()
    await page.goto(f"{web_gateway.url}/sessions/{session_id}")
    await expect(page.locator('#preview [data-key="heading"]')).to_have_text("Login")
    await expect(page.locator("h2", has_text="Login")).to_be_visible()
    await expect(page.get_by_label("Email")).to_be_visible()
    # An element type the preview does not know is a labelled box, not a crash.
    await expect(page.locator('#preview [data-key="mystery"]')).to_contain_text("FancyCarousel (mystery)")
    await expect(page.locator("#live-status")).to_contain_text("Live")
    await expect(page.get_by_role("button", name="Submit")).to_have_count(0)

    status, body = await web_gateway.request(
        "POST",
        f"/api/sessions/{session_id}/ops",
        json={
            "agentId": "claude",
            "ops": [
                {
                    "op": "add_element",
                    "key": "submitBtn",
                    "parentKey": "form",
                    "element": {"type": "Button", "props": {"children": "Submit", "className": "w-full"}},
                }
            ],
        },
    )
    assert status == 200, body
    assert body["applied"] == 1, body
    button = page.get_by_role("button", name="Submit")
    await expect(button).to_be_visible()
    await expect(page.locator("#session-revision")).to_have_text(f"revision {body['revision']}")
    before = await _background(context, "submitBtn")
    assert "264" in before, before  # the default theme's primary hue

    status, body = await web_gateway.request(
        "POST", f"/api/sessions/{session_id}/ops", json={"ops": [{"op": "set_theme", "theme": {"hue": 150}}]}
    )
    assert status == 200, body
    assert body["applied"] == 1, body
    await expect(button).not_to_have_css("background-color", before)
    after = await _background(context, "submitBtn")
    assert "150" in after, after

    status, _ = await web_gateway.request(
        "POST",
        f"/api/sessions/{session_id}/presence",
        json={"agentId": "claude", "name": "Claude", "status": "working"},
    )
    assert status == 200
    await expect(page.locator("#presence")).to_contain_text("Claude")
    await expect(page.locator("#presence")).to_contain_text("(you)")

    violations = await audit(page, "bridge-preview")
    assert violations == []


async def test_an_unknown_session_is_a_clear_not_found(web_gateway: Gateway, context: BrowserContext) -> None:
    page = await context.new_page()
    await page.goto(f"{web_gateway.url}/sessions/00000000-0000-4000-8000-000000000000")
    await expect(page.get_by_role("alert")).to_contain_text("Not found")
