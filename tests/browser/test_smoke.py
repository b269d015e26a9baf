"""The signed-out pages in a real browser: titles, labels, keyboard, language switch."""

from __future__ import annotations

from .conftest import assert_accessible, sign_in


def test_start_and_login_pages(browser, live_server, shots):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(live_server)
    assert "食品经营许可" in page.content()
    assert_accessible(page)
    shots(page, "start")
    page.keyboard.press("Tab")  # the skip link comes first for keyboard users
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.goto(f"{live_server}/login")
    assert_accessible(page)
    assert page.evaluate("document.activeElement.id") == "username"  # ready to type
    page.get_by_role("link", name="English").click()
    assert page.get_by_role("button", name="Sign in").is_visible()
    shots(page, "login-en")
    context.close()


def test_wrong_password_is_said_plainly(browser, live_server):
    page = sign_in(browser, live_server, "market_clerk", "wrong-password")
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误。"
    page.context.close()
