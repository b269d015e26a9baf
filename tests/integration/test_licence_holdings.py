"""The licence library's holdings (licensing/holdings.py) against versions: when a licence is changed or
renewed, a new version takes the number and the old one is `replaced`; only the latest valid version is
offered and usable, and a stale version's choice names the replacement as the reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Licence, User
from app.services.context import ServiceContext
from app.services.licensing.holdings import Holder, NotUsable, held, today, usable
from tests.conftest import Api
from tests.e2e.licence_flows import FOOD_LICENCE, LICENCE, issue_food_licence

pytestmark = pytest.mark.usefixtures("demo")


def _company(ctx: ServiceContext) -> Holder:
    with ctx.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == "company"))
        assert user is not None
        return Holder(user.id_number, user.id)


def _new_version(ctx: ServiceContext) -> None:
    """What a change of the licence leaves behind: v1 replaced, v2 valid under the same number."""
    with ctx.uow(write=True) as uow:
        s = uow.session
        v1 = s.scalar(select(Licence).where(Licence.number == LICENCE))
        assert v1 is not None
        v1.state = "replaced"
        columns = {c.key: getattr(v1, c.key) for c in Licence.__table__.columns if c.key != "id"}
        v2 = Licence(**{**columns, "version": 2, "state": "valid", "issued_at": v1.issued_at + timedelta(days=1)})
        s.add(v2)
        s.flush()
        v1.replaced_at, v1.replaced_by_id = v2.issued_at, v2.id
        uow.commit()


def test_only_the_latest_valid_version_is_held(app, ctx):
    issue_food_licence(Api(app.test_client()))
    holder, on = _company(ctx), today(ctx)
    with ctx.uow() as uow:
        assert [(h.number, h.version) for h in held(uow.session, holder, on, FOOD_LICENCE)] == [(LICENCE, 1)]
        assert held(uow.session, Holder(id_number="420106198503121233"), on) == []  # someone else holds nothing

    _new_version(ctx)
    with ctx.uow() as uow:
        s = uow.session
        assert [(h.number, h.version) for h in held(s, holder, on)] == [(LICENCE, 2)]
        assert usable(s, holder, LICENCE, FOOD_LICENCE, on).version == 2
        with pytest.raises(NotUsable, match="needs a 营业执照"):
            usable(s, holder, LICENCE, "营业执照", on)
        with pytest.raises(NotUsable, match="expired"):
            usable(s, holder, LICENCE, FOOD_LICENCE, on + timedelta(days=6 * 366))
