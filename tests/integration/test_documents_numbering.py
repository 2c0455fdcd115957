"""Register numbers under concurrency: no gap, no duplicate (SQLite and PostgreSQL).

Concurrent transactions run in one event loop with the app's engine (a pool of
connections on PostgreSQL, a connection per transaction on SQLite).
"""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.support import letters

pytestmark = pytest.mark.slow

COUNT = 20


@pytest.fixture(scope="module")
def cast(settings, module_client):
    from tests.support.api import Api

    return letters.make_cast(Api(module_client))


async def _decrees():
    from tkm.documents.tables import Document

    return await (
        Document.select(Document.id, Document.seq, Document.number, Document.office, Document.year)
        .where(Document.kind == "approval_decree")
        .order_by(Document.seq)
    )


def _assert_gapless(rows):
    seqs = [r["seq"] for r in rows]
    assert seqs == list(range(1, len(rows) + 1)), seqs
    assert len({r["number"] for r in rows}) == len(rows)
    for r in rows:
        assert r["number"].startswith(f"{r['seq']:03d}/SK/{r['office']}/"), r["number"]
        assert re.search(rf"/{r['year']}$", r["number"])


def test_twenty_decrees_issued_at_once_get_consecutive_numbers(api, cast):
    from tkm.core import db
    from tkm.documents import services

    grant = letters.make_grant(api, cast)
    grant.to_recommended(api)
    grant.approve(api)
    before = api.call(_decrees)

    async def issue(i):
        async with db.transaction():
            document_id = await services.issue(
                "approval_decree", application_id=grant.application_id, context_key=f"concurrent:{i}"
            )
            await asyncio.sleep(0)  # let the others run while this one holds its transaction
            return document_id

    async def issue_all():
        return await asyncio.gather(*(issue(i) for i in range(COUNT)))

    ids = api.call(issue_all)
    assert len(set(ids)) == COUNT
    rows = api.call(_decrees)
    assert len(rows) == len(before) + COUNT
    _assert_gapless(rows)
    assert {r["id"] for r in rows[len(before) :]} == set(ids)


def test_twenty_approvals_at_once_number_their_decrees_without_gaps(api, cast):
    from tkm.workflow import engine

    grants = []
    for i in range(COUNT):
        grant = letters.make_grant(api, cast, group_name=f"Kelompok Serentak {i}")
        grant.to_recommended(api)
        grants.append(grant)
    approver = letters.actor(cast.approver, cast.regions)

    async def approve_all():
        return await asyncio.gather(
            *(engine.perform(g.application_id, "approve", approver, {"notes": "Serentak."}) for g in grants)
        )

    results = api.call(approve_all)
    assert all(ctx.to_state == "approved" for ctx in results)
    rows = api.call(_decrees)
    _assert_gapless(rows)
    decree_ids = {ctx.results["documents"]["approval_decree"] for ctx in results}
    assert len(decree_ids) == COUNT and decree_ids <= {r["id"] for r in rows}
