"""The design workspace in a real chromium: start → clarification answered → requirements
appear live → confirm, through its buttons; a second tab follows; another user is refused."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, Page, expect

from ..engine_api import new_design_session
from ..harness import Gateway, bearer, token
from .conftest import Audit

pytestmark = [pytest.mark.integration]


async def design_session(gw: Gateway, user: str, description: str) -> str:
    session = await new_design_session(gw, user, description, program="Karts")
    assert session["workspaceUrl"] == f"/designs/collaborative/{session['id']}"
    return str(session["workspaceUrl"])


async def open_signed_in(context: BrowserContext, gw: Gateway, user: str, path: str) -> Page:
    """A new tab signed in through the sign-in link (token in the fragment), then at ``path``."""
    page = await context.new_page()
    await page.goto(f"{gw.url}/signin?next={path}#token={token(user)}")
    await page.wait_for_url(f"{gw.url}{path}")
    assert "token=" not in page.url
    return page


async def test_start_answer_requirements_confirm_through_the_buttons(
    web_gateway: Gateway, context: BrowserContext, audit: Audit
) -> None:
    path = await design_session(
        web_gateway, "ada", "An electric go-kart for children; please clarify the age range"
    )
    page = await open_signed_in(context, web_gateway, "ada", path)
    await expect(page.locator("#user")).to_contain_text("Signed in as ada")
    await expect(page.locator("#live-status")).to_contain_text("Live")
    await expect(page.locator('.timeline [aria-current="step"]')).to_have_attribute("data-stage", "idle")
    second = await open_signed_in(context, web_gateway, "ada", path)
    await expect(second.locator("#live-status")).to_contain_text("Live")

    await page.get_by_role("button", name="Start requirements").click()
    # The offline provider asks first when the brief says "clarify".
    answer = page.get_by_label("Your answer")
    await expect(answer).to_be_visible()
    await expect(page.locator("#draft")).to_contain_text("[offline provider]")
    await expect(second.locator(".clarifications .question")).not_to_have_text("")
    await expect(page.locator("#requirements-table")).to_have_count(0)

    await answer.fill("Ages 8 to 12")
    await page.get_by_role("button", name="Send answer").click()
    rows = page.locator("#requirements-table tbody tr")
    await expect(rows.first).to_be_visible()
    await expect(page.locator('.timeline [aria-current="step"]')).to_have_attribute(
        "data-stage", "requirements_review"
    )
    count = await rows.count()
    assert count > 0
    await expect(page.locator("#clarifications")).to_contain_text("Answered: Ages 8 to 12")
    # The second tab saw the same requirements arrive, through the live document.
    await expect(second.locator("#requirements-table tbody tr")).to_have_count(count)

    _, body = await web_gateway.request(
        "GET", f"/api/design-engine/sessions/{path.rsplit('/', 1)[1]}", headers=bearer("ada")
    )
    names = [r["name"] for r in body["data"]["session"]["artifacts"]["requirements"]]
    await expect(rows.locator("td:nth-child(2)")).to_have_text(names)

    await page.get_by_role("button", name="Confirm requirements").click()
    await expect(page.locator('.timeline [aria-current="step"]')).to_have_attribute(
        "data-stage", "bom_drafting"
    )
    await expect(second.locator('.timeline [aria-current="step"]')).to_have_attribute(
        "data-stage", "bom_drafting"
    )
    await expect(page.get_by_role("button", name="Start BOM")).to_be_visible()
    await expect(page.get_by_role("button", name="Confirm requirements")).to_have_count(0)

    violations = await audit(page, "design-workspace")
    assert violations == []


async def test_another_user_gets_a_clear_refusal_not_the_data(
    web_gateway: Gateway, context: BrowserContext, audit: Audit
) -> None:
    path = await design_session(web_gateway, "ada", "A secret bicycle frame")
    page = await open_signed_in(context, web_gateway, "bob", path)
    await expect(page.get_by_role("alert")).to_contain_text("Not yours")
    await expect(page.get_by_role("alert")).to_contain_text("belongs to another user")
    await expect(page.locator("#workspace")).to_have_count(0)
    assert "secret bicycle" not in (await page.content()).lower()
    assert await audit(page, "design-refused") == []


async def test_without_a_token_the_page_says_how_to_sign_in(
    web_gateway: Gateway, context: BrowserContext
) -> None:
    path = await design_session(web_gateway, "ada", "A garden trolley")
    page = await context.new_page()
    await page.goto(f"{web_gateway.url}{path}")
    await expect(page.get_by_role("alert")).to_contain_text("You are not signed in")
    await page.get_by_role("link", name="Sign in with a token").click()
    await page.wait_for_url(f"{web_gateway.url}/signin?next=*")
    await page.get_by_label("Token").fill("not-a-jwt")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#signin-status")).to_contain_text("That token was refused")
    await page.get_by_label("Token").fill(token("ada"))
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{web_gateway.url}{path}")
    await expect(page.locator("#design-title")).to_contain_text("garden trolley", ignore_case=True)
