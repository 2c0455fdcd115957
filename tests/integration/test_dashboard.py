"""The monitoring dashboard: figures equal sums computed here from what was posted, in every scope.

Several groups in three regions and two training centres go through the workflow to different
states; some are paid and file reports (some accepted, one not). The expected figures are computed
in this file from the report bodies posted and the tranches the API lists as paid, never from the
dashboard's own SQL.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tkm.testing.builders import members, programme_body
from tkm.testing.time_travel import approve_in_the_past, period

FIGURES = ("applications", "groups", "approved", "disbursed", "spent", "revenue", "reinvested", "workers")


def make_group(world: World, applicant: dict[str, Any], region: str, centre: str | None, name: str) -> dict:
    body = {
        "name": name,
        "region": region,
        "address": "Jl. Pasar 1",
        "training_centre": centre,
        "products": ["masker", "sabun"],
        "bank_account": {"bank": "BRI", "number": "002101000123567", "holder": name},
        "members": members(10, district=region.replace(".", "") + "01"),
    }
    r = world.post("/api/v1/groups", applicant, body)
    assert r.status_code == 201, r.text
    return r.json()


def expense(category: str, amount: int, paid_from: str) -> dict:
    """``paid_from``: a RAB component (grant money) or ``sales`` (the group's own money)."""
    if paid_from == "sales":
        return {"category": category, "amount": amount, "source": "sales"}
    return {"category": category, "amount": amount, "source": "grant", "component": paid_from}


def report_body(p: str, production: list, sales: list, expenses: list, workers: int) -> dict:
    """``expenses``: (category, amount, paid from); reinvested is derived from the lines paid from sales."""
    return {
        "period": p,
        "production": [{"product": a, "unit": u, "quantity": q} for a, u, q in production],
        "sales": [{"product": a, "quantity": q, "revenue": rev} for a, q, rev in sales],
        "expenses": [expense(c, amount, paid_from) for c, amount, paid_from in expenses],
        "workers": workers,
        "wages_paid": 0,
        "notes": "",
        "final": False,
    }


class Scene:
    """The world plus, per application, what the test knows about it."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.apps: list[dict[str, Any]] = []

    def add(self, app_id: int, applicant: dict, region: str, centre: str | None, programme: str) -> dict:
        record = {
            "id": app_id,
            "applicant": applicant["id"],
            "region": region,
            "centre": centre,
            "programme": programme,
            "reports": [],
        }
        self.apps.append(record)
        return record

    def file(self, record: dict, body: dict, accept: bool = True) -> None:
        w = self.world
        r = w.post(f"/api/v1/applications/{record['id']}/reports", w.api_applicant[record["applicant"]], body)
        assert r.status_code == 201, r.text
        if accept:
            r = w.post(f"/api/v1/reports/{r.json()['id']}/actions/accept", w.reviewer, {})
            assert r.status_code == 200, r.text
            record["reports"].append(body)

    def refresh(self) -> None:
        """Status, approved total and paid tranches as the API shows them."""
        w = self.world
        for record in self.apps:
            app = w.app(record["id"], w.admin)
            record["status"] = app["status"]
            record["approved"] = sum((app.get("approved_budget") or {}).values())
            tranches = w.get(f"/api/v1/applications/{record['id']}/tranches", w.admin).json()
            record["paid"] = [(t["amount"], t["paid_at"][:7]) for t in tranches if t["status"] == "paid"]


@pytest.fixture(scope="module")
def scene(module_client) -> Scene:
    api = Api(module_client)
    w = World(api, programme=programme_body(regions=["12", "13"]))
    # Staff who cover both provinces move the applications along.
    w.reviewer = api.make_user("reviewer", ["12", "13"])
    w.approver = api.make_user("approver", ["12", "13"])
    w.finance = api.make_user("finance", ["12", "13"])
    w.finance2 = api.make_user("finance", ["12", "13"])
    w.applicant2 = api.make_user("applicant")
    w.api_applicant = {w.applicant["id"]: w.applicant, w.applicant2["id"]: w.applicant2}
    w.other_programme = w.post("/api/v1/programmes", w.admin, programme_body()).json()
    for code, region in (("BLK-A", "13.71"), ("BLK-B", "13.75")):
        body = {"code": code, "name": f"BLK {code}", "kind": "UPTD", "region": region, "vocations": ["menjahit"]}
        assert w.post("/api/v1/training-centres", w.admin, body).status_code == 201
    s = Scene(w)
    P, Q = w.programme["code"], w.other_programme["code"]

    def new(applicant, region, centre, name, programme=P, **budget):
        group = make_group(w, applicant, region, centre, name)
        app = w.new_application(applicant=applicant, group=group, programme=programme, **budget)
        return s.add(app["id"], applicant, region, centre, programme)

    a1 = new(w.applicant, "13.71", "BLK-A", "Kelompok Satu")
    a2 = new(w.applicant, "13.75", "BLK-B", "Kelompok Dua", capital=8_000_000)
    a3 = new(w.applicant2, "12.71", None, "Kelompok Tiga", capital=6_000_000)
    a4 = new(w.applicant2, "13.71", "BLK-A", "Kelompok Empat")
    a5 = new(w.applicant, "13.75", None, "Kelompok Lima")
    a6 = new(w.applicant, "13.71", "BLK-A", "Kelompok Enam", programme=Q, capital=9_000_000)

    # to_state acts as w.applicant; the second applicant's applications borrow the slot.
    for record, state in ((a1, "active"), (a2, "active"), (a5, "rejected"), (a6, "approved")):
        w.to_state(record["id"], state)
    first = w.applicant
    w.applicant = w.applicant2
    w.to_state(a3["id"], "active")
    w.to_state(a4["id"], "submitted")
    w.applicant = first

    approve_in_the_past(api, a1["id"], 2)
    approve_in_the_past(api, a2["id"], 1)
    for record in (a1, a2, a3):
        w.pay_all(record["id"])

    s.file(
        a1,
        report_body(
            period(2),
            [("masker", "pcs", 1000), ("sabun", "batang", 300)],
            [("masker", 800, 4_000_000), ("sabun", 200, 1_000_000)],
            [("raw_materials", 800_000, "capital"), ("raw_materials", 700_000, "sales")],
            8,
        ),
    )
    s.file(
        a1,
        report_body(
            period(1),
            [("masker", "pcs", 1200)],
            [("masker", 1100, 5_500_000)],
            [("raw_materials", 2_000_000, "capital"), ("wages", 1_000_000, "sales")],
            11,
        ),
    )
    # Filed but not accepted: counts nowhere.
    s.file(a1, report_body(period(0), [("masker", "pcs", 500)], [("masker", 100, 500_000)], [], 20), accept=False)
    s.file(
        a2,
        report_body(
            period(1),
            [("masker", "pcs", 600), ("hand_sanitizer", "liter", 100)],
            [("masker", 600, 3_000_000), ("hand_sanitizer", 50, 1_250_000)],
            [("marketing", 250_000, "product_development"), ("marketing", 250_000, "sales")],
            6,
        ),
    )
    s.file(
        a3,
        report_body(
            period(0), [("sabun", "batang", 400)], [("sabun", 350, 1_750_000)], [("other", 300_000, "capital")], 9
        ),
    )
    for record in (a1, a2, a3):
        w.pay_all(record["id"])  # tranches that waited for accepted reports
    s.refresh()
    s.a = {"a1": a1, "a2": a2, "a3": a3, "a4": a4, "a5": a5, "a6": a6}
    return s


# --- expected figures, from the inputs ---------------------------------------------------------------------------


def rate(reinvested: int, revenue: int) -> float | None:
    return round(reinvested / revenue, 4) if revenue else None


def grant_spent(body: dict) -> int:
    """The dashboard's ``spent``: grant money spent (lines paid from the grant)."""
    return sum(e["amount"] for e in body["expenses"] if e["source"] == "grant")


def reinvested(body: dict) -> int:
    """The group's own money spent (lines paid from sales)."""
    return sum(e["amount"] for e in body["expenses"] if e["source"] == "sales")


def app_figures(record: dict) -> dict[str, int]:
    reports = record["reports"]
    latest = max(reports, key=lambda b: b["period"]) if reports else None
    funded = record["approved"] > 0
    return {
        "applications": 1,
        "groups": 1 if funded else 0,
        "approved": record["approved"],
        "disbursed": sum(amount for amount, _m in record["paid"]),
        "spent": sum(grant_spent(b) for b in reports),
        "revenue": sum(s["revenue"] for b in reports for s in b["sales"]),
        "reinvested": sum(reinvested(b) for b in reports),
        "workers": latest["workers"] if latest else 0,
    }


def expected(records: list[dict], region_of) -> dict[str, Any]:
    totals = dict.fromkeys(FIGURES, 0)
    by_region: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    by_centre: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    by_status: dict[str, int] = defaultdict(int)
    months: dict[str, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("disbursed", "spent", "revenue", "reinvested", "produced", "sold", "workers"), 0)
    )
    produced: dict[tuple[str, str], int] = defaultdict(int)
    sold: dict[str, int] = defaultdict(int)
    for record in records:
        figures = app_figures(record)
        by_status[record["status"]] += 1
        for name, value in figures.items():
            totals[name] += value
            by_region[region_of(record["region"])][name] += value
            by_centre[record["centre"]][name] += value
        for amount, month in record["paid"]:
            months[month]["disbursed"] += amount
        for b in record["reports"]:
            m = months[b["period"]]
            m["spent"] += grant_spent(b)
            m["revenue"] += sum(s["revenue"] for s in b["sales"])
            m["reinvested"] += reinvested(b)
            m["workers"] += b["workers"]
            for p in b["production"]:
                m["produced"] += p["quantity"]
                produced[(p["product"], p["unit"])] += p["quantity"]
            for s in b["sales"]:
                m["sold"] += s["quantity"]
                sold[s["product"]] += s["quantity"]
    units = {product: unit for product, unit in sorted(produced, reverse=True)}
    products = {key: {"produced": n, "sold": 0} for key, n in produced.items()}
    for product, n in sold.items():
        products.setdefault((product, units.get(product, "")), {"produced": 0, "sold": 0})["sold"] += n
    return {
        "totals": totals,
        "by_status": dict(by_status),
        "by_region": {k: dict(v) for k, v in by_region.items()},
        "by_centre": {k: dict(v) for k, v in by_centre.items()},
        "by_month": [{"month": k, **v} for k, v in sorted(months.items())],
        "products": [{"product": p, "unit": u, **v} for (p, u), v in sorted(products.items())],
    }


def check(data: dict[str, Any], want: dict[str, Any]) -> None:
    t = want["totals"]
    assert data["applications_by_status"] == want["by_status"]
    assert data["applications"] == t["applications"] and data["groups_funded"] == t["groups"]
    assert data["money"]["approved"] == t["approved"]
    assert data["money"]["disbursed"] == t["disbursed"]
    assert data["money"]["spent"] == t["spent"]
    assert data["money"]["unspent"] == t["disbursed"] - t["spent"]
    assert (data["revenue"], data["reinvested"], data["workers"]) == (t["revenue"], t["reinvested"], t["workers"])
    assert data["reinvestment_rate"] == rate(t["reinvested"], t["revenue"])
    got_regions = {r["region"]: {k: r[k] for k in FIGURES} for r in data["by_region"]}
    assert got_regions == want["by_region"]
    for r in data["by_region"]:
        assert r["reinvestment_rate"] == rate(r["reinvested"], r["revenue"])
    got_centres = {r["training_centre"]: {k: r[k] for k in FIGURES} for r in data["by_training_centre"]}
    assert got_centres == want["by_centre"]
    assert data["by_month"] == want["by_month"]
    assert data["products"] == want["products"]
    for m in data["by_month"]:
        assert isinstance(m["disbursed"], int) and isinstance(m["revenue"], int)


def dashboard(scene: Scene, user: dict, **params: str):
    return scene.world.client.get("/api/v1/dashboard", params=params, headers=user["headers"])


def province(code: str) -> str:
    return code[:2]


def regency(code: str) -> str:
    return code[:5]


# --- tests -----------------------------------------------------------------------------------------------------------


def test_the_scene_has_money_and_reports(scene):
    a = scene.a
    assert [a[k]["status"] for k in ("a1", "a2", "a3", "a4", "a5", "a6")] == [
        "active",
        "active",
        "active",
        "submitted",
        "rejected",
        "approved",
    ]
    assert all(a[k]["paid"] for k in ("a1", "a2", "a3")) and not a["a6"]["paid"]
    assert len(a["a1"]["reports"]) == 2


def test_admin_sees_everything(scene):
    r = dashboard(scene, scene.world.admin)
    assert r.status_code == 200, r.text
    data = r.json()
    check(data, expected(scene.apps, province))
    assert data["filters"] == {"programme": None, "programme_name": None, "region": None, "region_name": None}
    # Sanity of the expectations themselves: money moved and reports counted.
    assert (
        data["money"]["disbursed"] > 0 and data["revenue"] == 4_000_000 + 1_000_000 + 5_500_000 + 4_250_000 + 1_750_000
    )
    assert data["money"]["spent"] == 800_000 + 2_000_000 + 250_000 + 300_000, "grant money only"
    assert data["reinvested"] == 700_000 + 1_000_000 + 250_000, "the group's own money spent"
    assert data["workers"] == 11 + 6 + 9  # latest accepted report per application; the unaccepted 20 is ignored
    centres = {c["training_centre"]: c["name"] for c in data["by_training_centre"]}
    assert centres == {"BLK-A": "BLK BLK-A", "BLK-B": "BLK BLK-B", None: None}


def test_programme_filter(scene):
    w = scene.world
    data = dashboard(scene, w.admin, programme=w.programme["code"]).json()
    check(data, expected([r for r in scene.apps if r["programme"] == w.programme["code"]], province))
    assert data["filters"]["programme"] == w.programme["code"]
    other = dashboard(scene, w.admin, programme=w.other_programme["code"])
    check(other.json(), expected([r for r in scene.apps if r["programme"] == w.other_programme["code"]], province))


def test_region_filter_cuts_one_level_below(scene):
    w = scene.world
    data = dashboard(scene, w.admin, region="13").json()
    check(data, expected([r for r in scene.apps if r["region"].startswith("13")], regency))
    assert {r["region"] for r in data["by_region"]} == {"13.71", "13.75"}
    assert data["filters"]["region_name"]
    data = dashboard(scene, w.admin, region="13.75", programme=w.programme["code"]).json()
    want = [r for r in scene.apps if r["region"] == "13.75" and r["programme"] == w.programme["code"]]
    check(data, expected(want, lambda code: code))


def test_reviewer_sees_only_their_regions(scene):
    w = scene.world
    reviewer_13 = w.api.make_user("reviewer", ["13"])
    data = dashboard(scene, reviewer_13).json()
    check(data, expected([r for r in scene.apps if r["region"].startswith("13.")], regency))
    assert all(not r["region"].startswith("12") for r in data["by_region"])

    finance_medan = w.api.make_user("finance", ["12.71"])
    data = dashboard(scene, finance_medan).json()
    check(data, expected([r for r in scene.apps if r["region"] == "12.71"], lambda code: code))
    assert data["revenue"] == 1_750_000

    # Asking for a region outside one's scope is refused and names the field.
    r = dashboard(scene, reviewer_13, region="12.71")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["region"]
    r = dashboard(scene, finance_medan, region="12")  # the province is wider than their city
    assert r.status_code == 403

    elsewhere = w.api.make_user("approver", ["31"])
    data = dashboard(scene, elsewhere).json()
    assert data["applications"] == 0 and data["money"]["disbursed"] == 0 and data["by_region"] == []


def test_applicant_sees_only_own(scene):
    w = scene.world
    data = dashboard(scene, w.applicant2).json()
    own = [r for r in scene.apps if r["applicant"] == w.applicant2["id"]]
    check(data, expected(own, province))
    assert data["applications_by_status"] == {"active": 1, "submitted": 1}
    data = dashboard(scene, w.applicant).json()
    check(data, expected([r for r in scene.apps if r["applicant"] == w.applicant["id"]], province))
    # A region filter narrows the applicant's own figures; it never widens them.
    data = dashboard(scene, w.applicant2, region="13").json()
    check(data, expected([r for r in own if r["region"].startswith("13")], regency))
    stranger = w.api.make_user("applicant")
    data = dashboard(scene, stranger).json()
    assert data["applications"] == 0 and data["products"] == [] and data["by_month"] == []


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"programme": "NOPE"}, 422, "programme"),
        ({"programme": "x" * 500}, 422, "programme"),
        ({"programme": "TKM\x00"}, 422, "programme"),
        ({"region": "99"}, 422, "region"),
        ({"region": "13.71'; DROP TABLE applications; --"}, 422, "region"),
        ({"region": "%"}, 422, "region"),
        ({"region": "1" * 5000}, 422, "region"),
        ({"region": "13.71\x00"}, 422, "region"),
    ],
)
def test_bad_parameters_name_the_field(scene, params, status, field):
    r = dashboard(scene, scene.world.admin, **params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field]


def test_login_required_and_empty_params_mean_all(scene):
    w = scene.world
    assert w.client.get("/api/v1/dashboard").status_code == 401
    everything = dashboard(scene, w.admin).json()
    assert dashboard(scene, w.admin, programme="", region="  ").json() == everything


@pytest.mark.parametrize(
    "query", ["programme=%FF%FE", "region=%00", "region=13.7%0A1", "region=13%25", "programme=%27%20OR%201=1--"]
)
def test_garbage_query_strings_are_4xx(scene, query):
    r = scene.world.client.get("/api/v1/dashboard?" + query, headers=scene.world.admin["headers"])
    assert 400 <= r.status_code < 500, (query, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
