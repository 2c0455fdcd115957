"""Live responses of a whole grant journey match the published OpenAPI document, on both databases.

Every response the journey receives (the World builder's calls included) is checked against
``/schema/openapi.json`` as served by the running app: its status must be declared for the operation,
its media type listed, and a JSON body must validate against the declared schema (JSON Schema 2020-12,
``$ref``s resolved inside the document).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.support import letters
from tests.support.api import Api
from tests.support.factories import World
from tkm.programmes.services import today
from tkm.testing.builders import programme_body
from tkm.testing.samples import PDF_BYTES
from tkm.testing.time_travel import approve_in_the_past, period

DOCUMENT_URI = "urn:tkm:openapi"
METHODS = ("get", "post", "put", "patch", "delete")
JSON_TYPES = ("application/json", "application/problem+json")


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Conformance:
    """Checks responses against the document; ``seen`` records (method, path template, status) checked."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.registry: Registry[Any] = Registry().with_resource(
            DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
        )
        # Literal segments win over templated ones (/api/v1/tranches before /api/v1/tranches/{id}).
        self.templates = sorted(document["paths"], key=lambda p: (p.count("{"), -len(p)))
        self.patterns = {
            t: re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t)) + "$") for t in self.templates
        }
        self.seen: set[tuple[str, str, int]] = set()
        self.failures: list[str] = []

    def template_of(self, path: str) -> str | None:
        return next((t for t in self.templates if self.patterns[t].match(path)), None)

    def check(self, response: httpx.Response) -> None:
        request = response.request
        method, path = request.method.lower(), request.url.path
        if path.startswith("/schema"):
            return
        where = f"{method.upper()} {path} → {response.status_code}"
        if response.status_code >= 500:
            self.failures.append(f"{where}: {response.text[:300]}")
            return
        template = self.template_of(path)
        if template is None or method not in self.document["paths"][template]:
            self.failures.append(f"{where}: no such operation in the document")
            return
        responses = self.document["paths"][template][method]["responses"]
        declared = responses.get(str(response.status_code))
        if declared is None:
            self.failures.append(f"{where}: status not declared (declared: {sorted(responses)})")
            return
        self.seen.add((method, template, response.status_code))
        content = declared.get("content") or {}
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if not content:
            if response.content:
                self.failures.append(f"{where}: declared without a body, answered {media_type}")
            return
        if media_type not in content and not {"*/*", media_type.split("/")[0] + "/*"} & set(content):
            self.failures.append(f"{where}: media type {media_type!r} not declared (declared: {sorted(content)})")
            return
        if media_type not in JSON_TYPES:
            return
        pointer = _pointer("paths", template, method, "responses", str(response.status_code), "content", media_type)
        validator = Draft202012Validator({"$ref": f"{DOCUMENT_URI}#/{pointer}/schema"}, registry=self.registry)
        for error in list(validator.iter_errors(response.json()))[:3]:
            at = "/".join(str(p) for p in error.absolute_path)
            self.failures.append(f"{where}: at /{at}: {error.message[:300]}")


@pytest.fixture(scope="module")
def conformance(database: Any, module_client: Any) -> Iterator[Conformance]:
    document = module_client.get("/schema/openapi.json").json()
    checker = Conformance(document)
    module_client.event_hooks["response"].append(lambda r: (r.read(), checker.check(r)))
    yield checker
    module_client.event_hooks["response"].clear()


@pytest.fixture(scope="module")
def world(conformance: Conformance, module_client: Any) -> World:
    return World(Api(module_client))


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.request.method, response.request.url.path, response.text)
    return response.json() if response.content and "json" in response.headers.get("content-type", "") else None


def test_every_operation_declares_a_success_response_with_a_shape(module_client: Any) -> None:
    document = module_client.get("/schema/openapi.json").json()
    missing = []
    for path, operations in document["paths"].items():
        for method in METHODS:
            if method not in operations:
                continue
            responses = operations[method]["responses"]
            success = {code: r for code, r in responses.items() if code.startswith("2") or code.startswith("3")}
            described = [
                code
                for code, r in success.items()
                if code == "204"
                or code.startswith("3")
                or any(media not in JSON_TYPES or m.get("schema") for media, m in (r.get("content") or {}).items())
            ]
            if not described:
                missing.append(f"{method.upper()} {path}")
    assert not missing, missing


def test_every_operation_declares_its_problem_responses(module_client: Any) -> None:
    document = module_client.get("/schema/openapi.json").json()
    problem = document["components"]["schemas"]["ProblemOut"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    for path, operations in document["paths"].items():
        for method in METHODS:
            if method not in operations:
                continue
            responses = operations[method]["responses"]
            assert "400" in responses and "500" in responses, (method, path)
            for code, declared in responses.items():
                if code.startswith("4") or code == "500":
                    schema = declared["content"]["application/problem+json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ProblemOut"}, (method, path, code)
            if "{" in path:
                assert "404" in responses, (method, path)


def test_a_whole_journey_matches_the_document(world: World, conformance: Conformance, module_client: Any) -> None:
    w, client = world, module_client
    anonymous: dict[str, Any] = {"headers": {}}

    # Operations, auth, users, regions.
    assert client.get("/health").status_code in (200, 503)
    ok(w.get("/api/v1/me", w.applicant))
    email = f"daftar-{uuid.uuid4().hex[:8]}@tkm.test"
    ok(w.post("/api/v1/auth/register", anonymous, {"email": email, "name": "Siti", "password": "Rahasia-2020!"}), 201)
    login = ok(w.post("/api/v1/auth/login", anonymous, {"email": email, "password": "Rahasia-2020!"}))
    ok(client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {login['token']}"}), 204)
    client.cookies.clear()
    w.post("/api/v1/auth/login", anonymous, {"email": email, "password": "salah"})  # 401
    ok(
        w.post(
            "/api/v1/users",
            w.admin,
            {
                "email": f"staf-{uuid.uuid4().hex[:8]}@tkm.test",
                "name": "Staf",
                "password": "Rahasia-2020!",
                "role": "reviewer",
                "regions": ["13"],
            },
        ),
        201,
    )
    ok(w.get("/api/v1/users?per_page=5", w.admin))
    ok(w.get("/api/v1/regions", anonymous))
    ok(w.get("/api/v1/regions?parent=13", anonymous))
    ok(w.get("/api/v1/regions/13.71", anonymous))
    w.get("/api/v1/regions/99.99", anonymous)  # 404

    # Training centres and programmes.
    centre = {
        "code": f"BLK-{uuid.uuid4().hex[:6]}",
        "name": "BLK Padang",
        "kind": "UPTP",
        "region": "13.71",
        "vocations": ["menjahit"],
        "it_based": False,
    }
    ok(w.post("/api/v1/training-centres", w.admin, centre), 201)
    ok(w.get("/api/v1/training-centres", w.applicant))
    ok(w.get("/api/v1/programmes?open=true", w.applicant))
    ok(w.get(f"/api/v1/programmes/{w.programme['code']}", w.applicant))
    w.post("/api/v1/programmes", w.applicant, programme_body())  # 403
    quotas = {"13": w.programme["budget_ceiling"]}
    ok(client.patch(f"/api/v1/programmes/{w.programme['code']}", json={"quotas": quotas}, headers=w.admin["headers"]))
    client.patch(f"/api/v1/programmes/{w.programme['code']}", json={"quotas": {"99": 1}}, headers=w.admin["headers"])

    # Groups.
    group = w.make_group(w.applicant, name="Kelompok Skema")
    ok(w.get("/api/v1/groups", w.applicant))
    ok(w.get(f"/api/v1/groups/{group['id']}", w.reviewer))
    ok(
        client.patch(
            f"/api/v1/groups/{group['id']}",
            json={"address": "Jl. Khatib Sulaiman 2, Padang"},
            headers={**w.applicant["headers"], "If-Match": f'"{group["version"]}"'},
        )
    )
    client.patch(
        f"/api/v1/groups/{group['id']}",
        json={"address": "Jl. Lain"},
        headers={**w.applicant["headers"], "If-Match": '"999"'},
    )  # 412
    w.post("/api/v1/groups", w.applicant, {"name": ""})  # 400/422

    # An application from draft to active.
    app = w.new_application(group=group)
    ok(
        client.patch(
            f"/api/v1/applications/{app['id']}",
            json={"business_plan": app["business_plan"]},
            headers=w.applicant["headers"],
        )
    )
    w.upload(app["id"], "photo", b"plain text, not an image", "catatan.txt")  # 415
    w.act(app["id"], "approve", w.approver, {"notes": "Terlalu cepat."})  # 403 or 409
    w.get("/api/v1/applications/2147483000", w.reviewer)  # 404
    w.get(f"/api/v1/applications/{app['id']}", anonymous)  # 401
    app = w.to_state(app["id"], "active")
    ok(w.get("/api/v1/applications?per_page=10&status=active", w.reviewer))
    ok(w.get(f"/api/v1/applications/{app['id']}", w.approver))
    attachment = app["attachments"][0]
    download = client.get(attachment["url"], headers=w.applicant["headers"])
    assert download.status_code == 200 and download.content == PDF_BYTES

    # Tranches: request, authorize, pay (with a replay), fail; batches and a bank statement.
    approve_in_the_past(w.api, app["id"], 1)
    tranches = ok(w.get(f"/api/v1/applications/{app['id']}/tranches", w.finance))
    first = tranches[0]
    key = str(uuid.uuid4())
    requested = ok(
        w.post(f"/api/v1/tranches/{first['id']}/actions/request", w.finance, {}, headers={"Idempotency-Key": key})
    )
    replay = w.post(f"/api/v1/tranches/{first['id']}/actions/request", w.finance, {}, headers={"Idempotency-Key": key})
    assert ok(replay) == requested and replay.headers.get("Idempotent-Replayed") == "true"
    w.post(f"/api/v1/tranches/{first['id']}/actions/authorize", w.finance, {})  # 403: same person
    ok(w.post(f"/api/v1/tranches/{first['id']}/actions/authorize", w.finance2, {}))
    ok(w.get("/api/v1/tranches?status=authorized", w.finance))
    batch = w.get("/api/v1/payment-batches?status=authorized&format=csv", w.finance)
    assert batch.status_code == 200 and first["reference"] in batch.text
    ok(w.get("/api/v1/payment-batches?status=authorized&format=json", w.finance))
    statement = f"reference;amount;date;transfer_reference\n{first['reference']};{first['amount']};{today()};BRI-9\n"
    matched = ok(
        client.post(
            "/api/v1/bank-statements",
            headers=w.finance["headers"],
            files={"file": ("mutasi.csv", statement.encode(), "text/csv")},
        )
    )
    assert [m["reference"] for m in matched["matched"]] == [first["reference"]]
    second = next(t for t in tranches[1:] if t["due_condition"] == "on_approval")
    w.pay(second)
    # The bank refuses the second payment; paid again, its new SPM and BAST replace the void ones.
    w.pay(ok(w.post(f"/api/v1/tranches/{second['id']}/actions/fail", w.finance, {"reason": "Rekening ditutup."})))
    third = next(
        (
            t
            for t in ok(w.get(f"/api/v1/applications/{app['id']}/tranches", w.finance))
            if t["status"] == "planned" and t["due_condition"] == "on_approval"
        ),
        None,
    )
    if third is not None:
        ok(w.post(f"/api/v1/tranches/{third['id']}/actions/request", w.finance, {}))
        ok(w.post(f"/api/v1/tranches/{third['id']}/actions/authorize", w.finance2, {}))
        ok(w.post(f"/api/v1/tranches/{third['id']}/actions/fail", w.finance, {"reason": "Rekening ditutup."}))
    w.post(f"/api/v1/tranches/{first['id']}/actions/pay", w.finance, {"transfer_reference": "X", "paid_at": "no"})

    # Reports: one accepted, one sent back and corrected.
    accepted = w.accepted_report(app["id"], period=period(1))
    filed = ok(
        w.post(
            f"/api/v1/applications/{app['id']}/reports",
            w.applicant,
            {
                "period": period(0),
                "production": [{"product": "masker", "unit": "pcs", "quantity": 500}],
                "sales": [{"product": "masker", "quantity": 400, "revenue": 2_000_000}],
                # Grant money of the component paid above, and the group's own money (reinvested is derived).
                "expenses": [
                    {
                        "category": "raw_materials",
                        "amount": 500_000,
                        "source": "grant",
                        "component": first["component"],
                    },
                    {"category": "marketing", "amount": 100_000, "source": "sales"},
                ],
                "workers": 8,
                "wages_paid": 0,
                "final": False,
            },
        ),
        201,
    )
    sent_back = ok(
        w.post(f"/api/v1/reports/{filed['id']}/actions/request_revision", w.reviewer, {"notes": "Lampirkan nota."})
    )
    corrected = client.put(
        f"/api/v1/reports/{filed['id']}",
        headers={**w.applicant["headers"], "If-Match": f'"{sent_back["version"]}"'},
        json={
            "period": period(0),
            "production": [{"product": "masker", "unit": "pcs", "quantity": 500}],
            "sales": [{"product": "masker", "quantity": 400, "revenue": 2_000_000}],
            "expenses": [
                {"category": "raw_materials", "amount": 600_000, "source": "grant", "component": first["component"]},
                {"category": "marketing", "amount": 100_000, "source": "sales"},
            ],
            "reinvested": 100_000,
            "workers": 8,
            "wages_paid": 0,
            "final": False,
        },
    )
    ok(corrected)
    ok(w.get(f"/api/v1/applications/{app['id']}/reports", w.applicant))
    ok(w.get(f"/api/v1/reports/{accepted['id']}", w.reviewer))
    ok(w.get("/api/v1/reports?status=submitted", w.reviewer))
    w.post(f"/api/v1/reports/{accepted['id']}/actions/accept", w.reviewer, {})  # 409: accepted already

    # Funds trail as JSON, CSV, XLSX and PDF.
    trail = ok(w.get(f"/api/v1/applications/{app['id']}/funds-trail", w.applicant))
    assert trail["entries"] and trail["totals"]["disbursed"] > 0
    for kind in ("csv", "xlsx"):
        assert w.get(f"/api/v1/applications/{app['id']}/funds-trail?format={kind}", w.finance).status_code == 200
    w.get(f"/api/v1/applications/{app['id']}/funds-trail?format=doc", w.finance)  # 415
    pdf = w.get(f"/api/v1/applications/{app['id']}/funds-trail?format=pdf", w.finance, follow_redirects=False)
    assert pdf.status_code in (202, 303), pdf.text
    # The whole trail in scope, as CSV and XLSX, and its refusals.
    for kind in ("csv", "xlsx"):
        whole = w.get(f"/api/v1/funds-trail?format={kind}&sep=semicolon&region=13", w.finance)
        assert whole.status_code == 200, whole.text
    w.get("/api/v1/funds-trail?from=2026-13-01", w.finance)  # 422
    w.get("/api/v1/funds-trail?format=doc", w.finance)  # 415
    w.get("/api/v1/funds-trail", w.reviewer)  # 403

    # Documents, offices, verification, programme report.
    documents = ok(w.get(f"/api/v1/applications/{app['id']}/documents", w.applicant))
    decree = next(d for d in documents if d["kind"] == "approval_decree")
    ok(w.get(f"/api/v1/documents/{decree['id']}", w.applicant))
    w.get(f"/api/v1/documents/{decree['id']}/pdf", w.applicant)  # 409 while pending, or the PDF
    assert letters.render(w.api, decree["id"]) in ("rendered", "already-ready")
    content = w.get(f"/api/v1/documents/{decree['id']}/pdf", w.applicant)
    assert content.status_code == 200 and content.content.startswith(b"%PDF")
    code = ok(w.get(f"/api/v1/documents/{decree['id']}", w.applicant))["verification_code"]
    ok(w.get(f"/api/v1/verify/{code}", anonymous))
    ok(w.get(f"/api/v1/verify/{code}?sha256={'0' * 64}", anonymous))
    checked = ok(client.post(f"/api/v1/verify/{code}", files={"file": ("sk.pdf", content.content, "application/pdf")}))
    assert checked["matches"] is True
    w.get("/api/v1/verify/TIDAK-ADA", anonymous)  # 404
    void = [d for d in documents if d["status"] == "void"]
    assert {d["kind"] for d in void} >= {"payment_order", "handover_record"}
    replaced = next(d for d in void if d["replaced_by"] is not None)
    assert ok(w.get(f"/api/v1/verify/{replaced['verification_code']}", anonymous))["replacement"] is not None
    offices = ok(w.get("/api/v1/offices", w.admin))
    office = ok(
        w.post(
            "/api/v1/offices",
            w.admin,
            {
                "code": f"K{uuid.uuid4().hex[:5]}",
                "name": "Dinas Tenaga Kerja Kota Padang",
                "region": "13.71",
                "letterhead": ["Pemerintah Kota Padang", "Dinas Tenaga Kerja"],
                "address": "Jl. Bagindo Aziz Chan No. 1",
                "city": "Padang",
                "signatory_name": "Drs. Ahmad Fauzi",
                "signatory_title": "Kepala Dinas",
                "signatory_nip": "197001011995031001",
            },
        ),
        201,
    )
    ok(w.get(f"/api/v1/offices/{office['code']}", w.admin))
    ok(
        client.patch(
            f"/api/v1/offices/{office['code']}",
            json={"city": "Kota Padang"},
            headers={**w.admin["headers"], "If-Match": f'"{office["version"]}"'},
        )
    )
    assert offices
    report = ok(w.post("/api/v1/programme-reports", w.finance, {"programme": w.programme["code"], "region": "13"}), 202)
    assert report["kind"] == "programme_summary"

    # Monitoring and the lists once more, now with data in them.
    dashboard = ok(w.get("/api/v1/dashboard", w.reviewer))
    assert dashboard
    ok(w.get(f"/api/v1/dashboard?programme={w.programme['code']}&region=13.71", w.applicant))
    assert ok(w.get(f"/api/v1/dashboard?programme={w.programme['code']}", w.reviewer))["quotas"]
    ok(w.get("/api/v1/applications", w.applicant))
    w.get("/api/v1/groups?per_page=500", w.applicant)  # 422
    ok(w.get("/api/v1/groups", w.api.make_user("auditor")))

    assert not conformance.failures, "\n".join(conformance.failures)
    statuses = {status for _, _, status in conformance.seen}
    assert {200, 201, 202, 204, 401, 403, 404, 409, 412, 415, 422} <= statuses, sorted(statuses)
    operations = {(m, t) for m, t, s in conformance.seen if 200 <= s < 300}
    assert len(operations) >= 45, sorted(operations)
