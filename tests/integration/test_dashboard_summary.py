"""The programme summary letter takes disbursed, spent, revenue, reinvested and workers from the dashboard.

After payments and an accepted report the figures are non-zero and equal what was paid and reported;
the rendered PDF (real WeasyPrint, read back with pdftotext) prints them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import letters
from tests.support.api import Api
from tests.support.factories import World
from tkm.core.money import rupiah
from tkm.testing.time_travel import approve_in_the_past, period

REPORT = {
    "production": [{"product": "masker", "unit": "pcs", "quantity": 3000}],
    "sales": [{"product": "masker", "quantity": 2500, "revenue": 12_500_000}],
    # 5,000,000 of grant money (capital) spent, and 2,500,000 of the group's own sales money (reinvested).
    "expenses": [
        {"category": "raw_materials", "amount": 3_250_000, "source": "grant", "component": "capital"},
        {"category": "wages", "amount": 1_750_000, "source": "grant", "component": "capital"},
        {"category": "equipment", "amount": 2_500_000, "source": "sales"},
    ],
    "workers": 14,
    "wages_paid": 1_750_000,
    "notes": "",
    "final": False,
}


@pytest.fixture(scope="module")
def funded(module_client) -> dict[str, Any]:
    w = World(Api(module_client))
    app = w.to_state(w.new_application()["id"], "active")
    approve_in_the_past(w.api, app["id"], 1)
    w.pay_all(app["id"])
    r = w.post(f"/api/v1/applications/{app['id']}/reports", w.applicant, {**REPORT, "period": period(1)})
    assert r.status_code == 201, r.text
    assert w.post(f"/api/v1/reports/{r.json()['id']}/actions/accept", w.reviewer, {}).status_code == 200
    w.pay_all(app["id"])
    tranches = w.get(f"/api/v1/applications/{app['id']}/tranches", w.finance).json()
    paid = sum(t["amount"] for t in tranches if t["status"] == "paid")
    detail = w.app(app["id"])
    return {"world": w, "app": detail, "paid": paid, "approved": sum(detail["approved_budget"].values())}


def expected_totals(funded: dict[str, Any]) -> dict[str, int]:
    return {
        "groups": 1,
        "approved": funded["approved"],
        "disbursed": funded["paid"],
        "spent": 3_250_000 + 1_750_000,  # grant money spent; the sales-funded line is the reinvestment
        "revenue": 12_500_000,
        "reinvested": 2_500_000,
        "released": 0,
        "workers": 14,
    }


def test_programme_figures_come_from_the_ledger_and_accepted_reports(funded):
    from tkm.documents import summary

    w = funded["world"]
    assert funded["paid"] > 0
    figures = w.api.call(summary.programme_figures, w.programme["id"], "13")
    assert figures["totals"] == expected_totals(funded)
    assert [r["code"] for r in figures["regions"]] == ["13.71"]
    assert {k: figures["regions"][0][k] for k in expected_totals(funded)} == expected_totals(funded)
    # The whole country, and a region with nothing in it.
    assert w.api.call(summary.programme_figures, w.programme["id"], "")["totals"] == expected_totals(funded)
    assert w.api.call(summary.programme_figures, w.programme["id"], "12")["totals"]["disbursed"] == 0


def test_the_summary_pdf_prints_the_figures(funded):
    w = funded["world"]
    r = w.post("/api/v1/programme-reports", w.finance, {"programme": w.programme["code"], "region": "13"})
    assert r.status_code == 202, r.text
    document_id = r.json()["id"]
    assert letters.render(w.api, document_id) in ("rendered", "already-ready")
    content = letters.download(w.api, document_id, w.finance["headers"])
    text = " ".join(letters.pdf_text(content).split())
    want = expected_totals(funded)
    for name in ("approved", "disbursed", "spent", "revenue", "reinvested"):
        assert rupiah(want[name]) in text, name
    assert "14 orang" in text
