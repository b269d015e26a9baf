"""The applicant hears of every milestone: in app, by SMS and by e-mail, once per event, with the
administrator's template text and the case fields filled; channel choices respected; e-mail through SMTP."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.errors import InvalidInput
from app.models import Case, MessagePreference, Notification, OutboxMessage, User
from app.services.casework import cases
from app.services.identity.auth import principal_by_id
from app.services.messaging import milestones, templates
from app.services.messaging.outbox import dispatch_outbox, make_sender
from tests.e2e.flows import (
    ACCEPT,
    APPROVE,
    CORRECT,
    FOOD,
    FOOD_APPLY,
    GRANT,
    PASS,
    complete,
    correct,
)
from tests.smtp import SmtpServer

pytestmark = pytest.mark.usefixtures("demo")


def set_email(ctx, username, email):
    with ctx.uow(write=True) as uow:
        uow.session.execute(update(User).where(User.username == username).values(email=email))
        uow.commit()


def apply_as(ctx, username, item, data):
    """Apply through the service: these messages do not depend on how the API takes materials."""
    with ctx.uow() as uow:
        uid = uow.session.scalar(select(User.id).where(User.username == username))
    return cases.create_case(ctx, principal_by_id(ctx, uid), item, data)["case_no"]


def messages(ctx, case_no):
    """{event subject: (in-app count, sms count, email count)} and the rows, for the case's applicant."""
    with ctx.uow() as uow:
        s = uow.session
        case_id, applicant = s.execute(select(Case.id, Case.applicant_id).where(Case.case_no == case_no)).one()
        app_rows = s.scalars(select(Notification).where(Notification.case_id == case_id,
                                                        Notification.dedupe_key.like("milestone|%"))
                             .order_by(Notification.id)).all()
        out_rows = s.scalars(select(OutboxMessage).where(OutboxMessage.user_id == applicant,
                                                         OutboxMessage.dedupe_key.like(f"milestone|{case_id}|%"))).all()
        return ([(n.title, n.body) for n in app_rows],
                sorted((m.channel, m.recipient, m.subject, m.body) for m in out_rows))


def test_receipt_correction_acceptance_decision_each_once_in_app_sms_and_email(api, ctx, clock):
    set_email(ctx, "company", "lisi@example.cn")
    case_no = apply_as(ctx, "company", FOOD, FOOD_APPLY)
    complete(api, case_no, "preview", "market_clerk", CORRECT)
    correct(api, case_no)
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    complete(api, case_no, "review", "market_approver", APPROVE)
    complete(api, case_no, "decision", "market_head", GRANT)

    in_app, outbox = messages(ctx, case_no)
    titles = [t for t, _ in in_app]
    assert titles == [f"办件 {case_no} 已收件", f"办件 {case_no} 需补正材料", f"办件 {case_no} 已受理",
                      f"办件 {case_no} 准予许可"]
    bodies = dict(in_app)
    assert "食品经营许可申请书" in bodies[f"办件 {case_no} 需补正材料"]  # what is missing
    assert "承诺于 20" in bodies[f"办件 {case_no} 已受理"]  # the promised date, filled
    assert "{{" not in "".join(bodies.values())
    # Each event once per channel: SMS to the account's phone, e-mail to its address.
    assert [(c, r) for c, r, *_ in outbox] == [("email", "lisi@example.cn")] * 4 + [("sms", "13812345678")] * 4  # the account phone
    assert sorted(t for c, _, t, _ in outbox if c == "sms") == sorted(titles)


def test_the_same_milestone_raised_again_is_not_sent_again(api, ctx):
    case_no = apply_as(ctx, "company", FOOD, FOOD_APPLY)
    with ctx.uow(write=True) as uow:
        case = uow.session.scalar(select(Case).where(Case.case_no == case_no))
        again = milestones.notify(ctx, uow.session, case, "receipt", {}, occurrence=_receipt_id(uow.session, case))
        uow.commit()
    assert (again.app, again.outbox) == (0, 0)
    in_app, outbox = messages(ctx, case_no)
    assert len(in_app) == 1 and [c for c, *_ in outbox] == ["sms"]  # no e-mail address on the account


def _receipt_id(s, case):
    from app.models import Notice

    return s.scalar(select(Notice.id).where(Notice.case_id == case.id, Notice.kind == "receipt"))


def test_an_edited_template_changes_the_next_message_and_a_bad_one_is_refused(api, ctx, clock):
    with ctx.uow(write=True) as uow:
        templates.save(uow.session, "acceptance", "zh", "【受理】{{ case_no }}",
                       "{{ applicant_name }}：{{ item_name }} 已受理，{{ promised_date }} 前办结。", clock.now(), None)
        uow.commit()
    for bad, field in (("{{ case_no", "subject"), ("{{ secret_key }}", "subject"),
                       ("{{ case_no.__class__.__mro__ }}", "subject"), ("{{ 'x' * 100000000 }}", "subject")):
        with pytest.raises(InvalidInput) as refused, ctx.uow(write=True) as uow:
            templates.save(uow.session, "acceptance", "zh", bad, "正文", clock.now(), None)
        assert refused.value.details[0]["field"] == field, bad
    case_no = apply_as(ctx, "company", FOOD, FOOD_APPLY)
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    in_app, outbox = messages(ctx, case_no)
    title, body = in_app[-1]
    assert title == f"【受理】{case_no}"
    assert body.startswith("武汉市江岸区老街坊餐饮店：") or "：食品经营许可" in body
    assert "已受理，20" in body and "{{" not in body
    assert (title, body) in [(t, b) for c, _, t, b in outbox if c == "sms"]


def test_channel_choices_are_respected_and_in_app_always_goes(api, ctx, clock):
    set_email(ctx, "company", "lisi@example.cn")
    with ctx.uow(write=True) as uow:
        uid = uow.session.scalar(select(User.id).where(User.username == "company"))
        uow.session.add(MessagePreference(user_id=uid, sms=False, email=True, updated_at=clock.now()))
        uow.commit()
    case_no = apply_as(ctx, "company", FOOD, FOOD_APPLY)
    in_app, outbox = messages(ctx, case_no)
    assert len(in_app) == 1 and [c for c, *_ in outbox] == ["email"]


def test_without_smtp_an_email_is_skipped_and_with_smtp_it_reaches_the_server_once(api, ctx, clock):
    set_email(ctx, "company", "lisi@example.cn")
    case_no = apply_as(ctx, "company", FOOD, FOOD_APPLY)
    dispatch_outbox(ctx, clock.now(), sender=make_sender("logging", {}))
    with ctx.uow() as uow:
        states = dict(uow.session.execute(select(OutboxMessage.channel, OutboxMessage.state)).all())
    assert states == {"sms": "sent", "email": "skipped"}

    server = SmtpServer()
    sender = make_sender("logging", {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port, "SMTP_TLS": "off",
                                     "SMTP_FROM": "banjian@example.cn"})
    with ctx.uow(write=True) as uow:  # queue it again: the skipped row back to pending
        uow.session.execute(update(OutboxMessage).where(OutboxMessage.channel == "email").values(
            state="pending", next_attempt_at=clock.now()))
        uow.commit()
    clock.advance(timedelta(minutes=1))
    assert dispatch_outbox(ctx, clock.now(), sender=sender) == 1
    assert dispatch_outbox(ctx, clock.now() + timedelta(hours=1), sender=sender) == 0
    server.stop()
    assert len(server.messages) == 1
    mail_from, rcpt, data = server.messages[0]
    assert (mail_from, rcpt) == ("banjian@example.cn", ["lisi@example.cn"])
    mail = email.message_from_string(data, policy=email.policy.default)
    assert mail["Subject"] == f"办件 {case_no} 已收件" and "banjian-outbox-" in mail["Message-ID"]
    assert case_no in mail.get_content()


def test_the_admin_page_edits_with_a_preview_refuses_a_bad_template_and_records_the_change(app, ctx):
    from app.models import AuditEntry
    from tests.web.signin import csrf_token, sign_in

    admin = sign_in(app.test_client(), "admin")
    listing = admin.get("/admin/messages").get_data(as_text=True)
    assert "/admin/messages/correction/zh" in listing and "/admin/messages/receipt/en" in listing
    assert "消息模板" in listing and "补正告知" in listing  # Chinese on a Chinese page
    path = "/admin/messages/receipt/zh"

    def post(action, subject, body):
        return admin.post(path, data={"subject": subject, "body": body, "action": action,
                                      "csrf_token": csrf_token(admin, path)})

    preview = post("preview", "收到 {{ case_no }}", "{{ applicant_name }}，您的「{{ item_name }}」已收件。")
    assert preview.status_code == 200 and "张三，您的「食品经营许可」已收件。" in preview.get_data(as_text=True)
    bad = post("save", "收到 {{ case_no }", "正文")
    assert bad.status_code == 422 and 'id="subject-error"' in bad.get_data(as_text=True)
    assert post("save", "收到 {{ case_no }}", "{{ item_name }} 已收件。").status_code == 302
    with ctx.uow() as uow:
        [entry] = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "template.update")).all()
        assert (entry.object_type, entry.object_id, entry.after["subject"]) == ("template", "receipt.zh",
                                                                                "收到 {{ case_no }}")
    case_no = apply_as(ctx, "company", FOOD, FOOD_APPLY)
    assert messages(ctx, case_no)[0] == [(f"收到 {case_no}", "食品经营许可 已收件。")]
    clerk = sign_in(app.test_client(), "market_clerk")
    assert clerk.get("/admin/messages").status_code == 403 and clerk.get(path).status_code == 403


def test_the_applicant_switches_sms_off_on_the_account_page(app, ctx):
    from tests.web.signin import csrf_token, sign_in

    me = sign_in(app.test_client(), "company")
    page = me.get("/account").get_data(as_text=True)
    assert 'name="sms" value="on" checked' in page and "13812345678" in page
    assert "短信" in page and "站内通知" in page
    saved = me.post("/account", data={"email": "on", "csrf_token": csrf_token(me, "/account")})
    assert saved.status_code == 302
    assert 'name="sms" value="on" checked' not in me.get("/account").get_data(as_text=True)
    case_no = apply_as(ctx, "company", FOOD, FOOD_APPLY)
    in_app, outbox = messages(ctx, case_no)
    assert len(in_app) == 1 and outbox == []  # no SMS by choice, no e-mail address on the account


def test_special_procedure_start_and_end_and_an_extension_are_told_once_each(api, ctx):
    case_no = apply_as(ctx, "company", FOOD, FOOD_APPLY)
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    started = api.post(f"/cases/{case_no}/suspensions", "market_approver",
                       json={"procedure": "testing", "expected_days": 5, "reason": "样品送检"})
    assert started.status_code == 201, started.get_json()
    assert api.post(f"/cases/{case_no}/suspensions/{started.get_json()['id']}/end", "market_approver").status_code == 200
    assert api.post(f"/cases/{case_no}/extensions", "market_approver", json={"reason": "需现场核查"}).status_code == 201
    [task] = [t for t in api.get("/tasks?view=all&per_page=100", "market_head").get_json()["items"]
              if t["task_key"] == "approve_extension"]
    done = api.post(f"/tasks/{task['id']}/complete", "market_head",
                    json={"data": {"extension_decision": "approve", "extension_comment": "同意"}})
    assert done.status_code == 200, done.get_json()
    in_app, outbox = messages(ctx, case_no)
    titles = [t for t, _ in in_app]
    assert titles[2:] == [f"办件 {case_no} 进入特别程序", f"办件 {case_no} 特别程序结束", f"办件 {case_no} 审查期限已延长"]
    bodies = dict(in_app)
    assert "预计 5 个工作日" in bodies[titles[2]] and "延长 10 个工作日" in bodies[titles[4]]
    assert "需现场核查" in bodies[titles[4]]
    assert sorted(t for c, _, t, _ in outbox if c == "sms") == sorted(titles)  # each once by SMS too


def test_a_decision_limit_gone_red_tells_the_applicant_once(api, ctx, clock):
    from datetime import date

    from app.services.timelimits.clock_sweep import sweep_clocks
    from app.workdays import end_of_day

    case_no = apply_as(ctx, "company", FOOD, FOOD_APPLY)
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    clock.set(end_of_day(date(2026, 12, 7)) + timedelta(seconds=1))  # the decision limit is over
    assert sweep_clocks(ctx).alarms
    sweep_clocks(ctx)
    in_app, outbox = messages(ctx, case_no)
    late = [(t, b) for t, b in in_app if t == f"办件 {case_no} 办理延误"]
    assert len(late) == 1 and "已提醒承办部门负责人" in late[0][1]
    assert [t for c, _, t, _ in outbox if c == "sms"].count(f"办件 {case_no} 办理延误") == 1


def test_a_walk_in_applicant_without_an_account_hears_by_sms(ctx):
    from app.services.identity.identity import find_or_create_walk_in

    with ctx.uow() as uow:
        clerk_id = uow.session.scalar(select(User.id).where(User.username == "market_clerk"))
    clerk = principal_by_id(ctx, clerk_id)
    username = find_or_create_walk_in(ctx, clerk, kind="person", id_number="11010519491231002X", name="王五",
                                      phone="13900001234")
    case_no = cases.create_case(ctx, clerk, FOOD, FOOD_APPLY, username)["case_no"]
    in_app, outbox = messages(ctx, case_no)
    assert [(c, r, t) for c, r, t, _ in outbox] == [("sms", "13900001234", f"办件 {case_no} 已收件")]


def test_a_refusal_to_accept_tells_the_reason(api, ctx):
    case_no = apply_as(ctx, "company", FOOD, FOOD_APPLY)
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk",
             {"accept_result": "refuse", "refusal_reason": "申请事项依法不需要取得行政许可"})
    in_app, _ = messages(ctx, case_no)
    [(title, body)] = [m for m in in_app if "不予受理" in m[0]]  # the rating invitation follows it
    assert title == f"办件 {case_no} 不予受理" and body.endswith("理由：申请事项依法不需要取得行政许可")


def test_the_applicant_chooses_english_messages_on_the_account_page(app, ctx):
    """The language choice applies to every channel of the next message; an unknown language is refused
    on the page and changes nothing."""
    from tests.web.signin import csrf_token, sign_in

    me = sign_in(app.test_client(), "company")
    page = me.get("/account").get_data(as_text=True)
    assert '<option value="zh" selected>' in page and "消息语言" in page
    refused = me.post("/account", data={"sms": "on", "locale": "fr", "csrf_token": csrf_token(me, "/account")})
    assert refused.status_code == 422 and "zh, en" in refused.get_data(as_text=True)
    assert '<option value="zh" selected>' in me.get("/account").get_data(as_text=True)

    saved = me.post("/account", data={"sms": "on", "locale": "en", "csrf_token": csrf_token(me, "/account")})
    assert saved.status_code == 302
    assert '<option value="en" selected>' in me.get("/account").get_data(as_text=True)
    case_no = apply_as(ctx, "company", FOOD, FOOD_APPLY)
    in_app, outbox = messages(ctx, case_no)
    assert [title for title, _ in in_app] == [f"Case {case_no} received"]
    assert in_app[0][1].startswith("Your application for ")
    assert [(channel, subject) for channel, _, subject, _ in outbox] == [("sms", f"Case {case_no} received")]


def test_message_settings_through_the_api(api, ctx):
    """The account page's settings for integrators: read, change, refuse an unknown language unchanged."""
    before = api.get("/account/messages", "company")
    assert before.status_code == 200
    assert before.get_json() == {"sms": True, "email": True, "phone": "13812345678", "address": None,
                                 "locale": "zh"}
    bad = api.put("/account/messages", "company", json={"sms": False, "email": True, "locale": "fr"})
    assert bad.status_code in (400, 422) and "locale" in str(bad.get_json())
    assert api.get("/account/messages", "company").get_json()["sms"] is True
    changed = api.put("/account/messages", "company", json={"sms": False, "email": True, "locale": "en"})
    assert changed.status_code == 200 and changed.get_json()["locale"] == "en"
    case_no = apply_as(ctx, "company", FOOD, FOOD_APPLY)
    in_app, outbox = messages(ctx, case_no)
    assert [title for title, _ in in_app] == [f"Case {case_no} received"] and outbox == []
    assert api.get("/account/messages").status_code == 401
