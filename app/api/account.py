"""The signed-in user's own message settings: SMS and e-mail on or off, and the messages' language (the
account page's settings, for apps that integrate the portal)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from marshmallow import fields, validate

from app.models import TEMPLATE_LOCALES
from app.services.messaging import settings as message_settings

from . import bp
from .body import json_object
from .openapi import op
from .schemas import Strict
from .security import ctx, login_required, principal


class MessageSettingsBody(Strict):
    sms = fields.Boolean(required=True)
    email = fields.Boolean(required=True)
    locale = fields.String(load_default=None, validate=validate.OneOf(TEMPLATE_LOCALES))


OPENAPI_BODIES = (MessageSettingsBody,)
OPENAPI_PATHS = {
    "/account/messages": {
        "get": op("My message settings: SMS and e-mail on or off (in-app messages always go), the language "
                  "messages are written in, and where SMS and e-mail would be sent"),
        "put": op("Change my message settings", body="MessageSettingsBody"),
    },
}


@bp.get("/account/messages")
@login_required
def get_message_settings() -> Any:
    return asdict(message_settings.preferences(ctx(), principal()))


@bp.put("/account/messages")
@login_required
def put_message_settings() -> Any:
    body = MessageSettingsBody().load(json_object())
    prefs = message_settings.set_preferences(ctx(), principal(), sms=body["sms"], email=body["email"],
                                             locale=body["locale"])
    return asdict(prefs)
