"""Chromium: an administrator creates a user with a password; the user signs in, is made to choose their
own password, and works; the administrator disables them and they cannot sign in any more; the audit
trail lists each of these changes. No Content-Security-Policy violation on the way."""

from __future__ import annotations

import re

from .conftest import assert_accessible, sign_in
from .test_csp import watched


def test_admin_creates_a_user_who_signs_in_then_is_disabled(browser, live_server, shots):
    admin = sign_in(browser, live_server, "admin")
    console = watched(admin)
    admin.goto(f"{live_server}/admin/users/new")
    assert_accessible(admin)
    admin.fill("#username", "zhou_clerk")
    admin.fill("#full_name", "周八")
    admin.select_option("#role", "clerk")
    admin.select_option("#department", "market")
    admin.get_by_label("market.clerk", exact=True).check()
    admin.fill("#staff_no", "SJ0188")
    admin.fill("#email", "not an address")
    admin.fill("#password", "Start-pass-1")
    admin.get_by_role("button", name="创建用户").click()
    # the e-mail's message stands next to it; nothing was created
    assert "电子邮箱格式不正确" in admin.locator("#email-error").inner_text()
    shots(admin, "field-error")
    admin.fill("#email", "zhou@example.cn")
    admin.fill("#password", "Start-pass-1")
    admin.get_by_role("button", name="创建用户").click()
    admin.wait_for_url(re.compile(r"/admin/users/\d+$"))
    assert "首次登录时必须修改密码" in admin.locator(".flash").inner_text()
    user_page = admin.url
    shots(admin, "created")

    user = sign_in(browser, live_server, "zhou_clerk", "Start-pass-1")
    assert "/password" in user.url
    assert user.locator("#must-change").is_visible()
    assert_accessible(user)
    user.goto(f"{live_server}/staff/inbox")  # any other page leads back to the change
    assert "/password" in user.url
    user.fill("#current_password", "Start-pass-1")
    user.fill("#new_password", "Own-pass-42")
    user.fill("#new_password_again", "Own-pass-42")
    user.get_by_role("button", name="修改密码").click()
    user.wait_for_load_state()
    assert "您的密码已修改" in user.locator(".flash").inner_text()
    user.goto(f"{live_server}/staff/inbox")
    assert user.url.endswith("/staff/inbox") and user.locator("h1").inner_text() == "待办"
    shots(user, "working")

    admin.goto(user_page)
    admin.get_by_role("button", name="停用用户").click()
    admin.wait_for_load_state()
    assert "已停用" in admin.locator(".flash").inner_text()
    assert admin.locator("#user-status").is_visible()
    shots(admin, "disabled")

    user.goto(f"{live_server}/staff/inbox")  # the open session ended at once
    assert "/login" in user.url
    again = sign_in(browser, live_server, "zhou_clerk", "Own-pass-42")
    assert "该账号已停用" in again.locator(".error").inner_text()
    shots(again, "refused")

    admin.goto(f"{live_server}/admin/audit?object_type=user")
    assert_accessible(admin)
    trail = admin.locator("#audit").inner_text()
    for action in ("user.create", "user.password_change", "user.disable"):
        assert action in trail
    assert "zhou_clerk" in trail and "scrypt" not in trail
    shots(admin, "audit")
    assert admin.evaluate("window.__violations") == [] and console == []
    for page in (admin, user, again):
        page.context.close()
