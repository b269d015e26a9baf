"""What people set about messages: administrators edit the milestone templates (audited), each user
chooses SMS and e-mail (in-app messages always go)."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import Forbidden, InvalidForm
from app.models import TEMPLATE_LOCALES, MessagePreference, User
from app.services import audit
from app.services.context import ServiceContext
from app.services.identity.principal import Principal

from . import templates


@dataclass(frozen=True)
class Preferences:
    sms: bool
    email: bool
    phone: str | None  # where each goes, so the page can say a channel has no address
    address: str | None
    locale: str = "zh"  # TEMPLATE_LOCALES: the language of the user's messages on every channel


def list_templates(ctx: ServiceContext, principal: Principal) -> list[templates.TemplateView]:
    """Every event in every locale, edited or default. :raises Forbidden: not an administrator."""
    _admin(principal)
    with ctx.uow() as uow:
        return [templates.current(uow.session, event, locale) for event in templates.EVENTS
                for locale in TEMPLATE_LOCALES]


def preview(principal: Principal, subject: str, body: str) -> templates.Text:
    """The text a proposed template gives for the sample case.

    :raises Forbidden: not an administrator. :raises InvalidInput: a template that cannot be saved.
    """
    _admin(principal)
    return templates.check(subject, body)


def update_template(ctx: ServiceContext, principal: Principal, event: str, locale: str, subject: str,
                    body: str) -> templates.TemplateView:
    """Save an edit; the next message of that event uses it. Audited as template.update.

    :raises Forbidden: not an administrator. :raises InvalidInput: unknown event, or a bad template.
    """
    _admin(principal)
    with ctx.uow(write=True) as uow:
        now = ctx.clock.now()
        before, after = templates.save(uow.session, event, locale, subject, body, now, principal.id)
        if (before.subject, before.body) != (after.subject, after.body):
            audit.record(uow.session, principal, now, "template.update", "template", f"{event}.{locale}",
                         f"{event} ({locale})", {"subject": before.subject, "body": before.body},
                         {"subject": after.subject, "body": after.body})
        uow.commit()
        return after


def preferences(ctx: ServiceContext, principal: Principal) -> Preferences:
    """The user's own channel choices (both on until they choose)."""
    with ctx.uow() as uow:
        s = uow.session
        user = s.get(User, principal.id)
        chosen = s.get(MessagePreference, principal.id)
        return Preferences(chosen.sms if chosen else True, chosen.email if chosen else True,
                           user.phone if user else None, user.email if user else None,
                           chosen.locale if chosen else "zh")


def set_preferences(ctx: ServiceContext, principal: Principal, sms: bool, email: bool,
                    locale: str | None = None) -> Preferences:
    """Choose SMS and e-mail for the user's own messages (the in-app list cannot be switched off) and,
    when given, the language they are written in.

    :raises InvalidForm: an unknown language.
    """
    if locale is not None and locale not in TEMPLATE_LOCALES:
        raise InvalidForm({"locale": [f"请选择 {' / '.join(TEMPLATE_LOCALES)} 之一 / choose one of "
                                      f"{', '.join(TEMPLATE_LOCALES)}"]}, "不支持的语言 / unsupported language")
    with ctx.uow(write=True) as uow:
        s = uow.session
        chosen = s.get(MessagePreference, principal.id)
        if chosen is None:
            chosen = MessagePreference(user_id=principal.id)
            s.add(chosen)
        chosen.sms, chosen.email, chosen.updated_at = sms, email, ctx.clock.now()
        if locale is not None:
            chosen.locale = locale
        uow.commit()
    return preferences(ctx, principal)


def _admin(principal: Principal) -> None:
    if not principal.has("admin"):
        raise Forbidden("只有管理员可以修改消息模板 / administrators only")
