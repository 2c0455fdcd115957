"""``World``: test data made through the public API on the TestClient (the same path users take).

The bodies it sends come from ``tkm.testing.builders``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from tkm.programmes.services import today
from tkm.testing.builders import PATHS, REQUIRED_KINDS, RUBRIC_SCORES, budget, members, plan, programme_body
from tkm.testing.samples import PDF_BYTES

_ntpn = itertools.count(int(dt.datetime.now(dt.UTC).timestamp()) * 1000)


class World:
    """One programme with an admin, an applicant with a group, and staff for region 13."""

    def __init__(
        self, api: Any, *, region: str = "13.71", programme: dict[str, Any] | None = None, member_count: int = 10
    ) -> None:
        self.api = api
        self.client = api.client
        self.admin = api.make_user("admin")
        self.applicant = api.make_user("applicant", phone="081100000001")
        self.reviewer = api.make_user("reviewer", ["13"], phone="081100000002")
        self.approver = api.make_user("approver", ["13"], phone="081100000003")
        self.finance = api.make_user("finance", ["13"])
        self.finance2 = api.make_user("finance", ["13"])
        self.programme = self.post("/api/v1/programmes", self.admin, programme or programme_body()).json()
        self.group = self.make_group(self.applicant, region=region, member_count=member_count)

    def post(self, path: str, user: dict[str, Any], body: Any = None, **kwargs: Any) -> Any:
        headers = {**user["headers"], **kwargs.pop("headers", {})}
        response = self.client.post(path, json=body, headers=headers, **kwargs)
        return response

    def get(self, path: str, user: dict[str, Any], **kwargs: Any) -> Any:
        return self.client.get(path, headers=user["headers"], **kwargs)

    def make_group(
        self,
        applicant: dict[str, Any],
        region: str = "13.71",
        member_count: int = 10,
        member_list: list[dict[str, Any]] | None = None,
        name: str = "Kelompok Maju Bersama",
    ) -> dict:
        body = {
            "name": name,
            "region": region,
            "address": "Jl. Sudirman 1, Padang",
            "products": ["masker", "sabun"],
            "bank_account": {"bank": "BRI", "number": "002101000123567", "holder": "Kelompok Maju Bersama"},
            "members": member_list
            or members(
                member_count,
                district=region.replace(".", "") + "01" if region.count(".") == 1 else region.replace(".", ""),
            ),
        }
        r = self.post("/api/v1/groups", applicant, body)
        assert r.status_code == 201, r.text
        return r.json()

    def new_application(
        self,
        applicant: dict[str, Any] | None = None,
        group: dict[str, Any] | None = None,
        programme: str | None = None,
        **budget_args: Any,
    ) -> dict[str, Any]:
        applicant = applicant or self.applicant
        group = group or self.group
        body = {
            "programme": programme or self.programme["code"],
            "group_id": group["id"],
            "business_plan": plan(),
            "budget": budget(**budget_args),
        }
        r = self.post("/api/v1/applications", applicant, body)
        assert r.status_code == 201, r.text
        return r.json()

    def upload(
        self,
        app_id: int,
        kind: str,
        content: bytes = PDF_BYTES,
        filename: str = "berkas.pdf",
        user: dict[str, Any] | None = None,
    ) -> Any:
        user = user or self.applicant
        return self.client.post(
            f"/api/v1/applications/{app_id}/attachments",
            headers=user["headers"],
            files={"file": (filename, content, "application/pdf")},
            data={"kind": kind},
        )

    def act(
        self,
        app_id: int,
        action: str,
        user: dict[str, Any],
        body: dict[str, Any] | None = None,
        version: int | None = None,
    ) -> Any:
        headers = {} if version is None else {"If-Match": f'"{version}"'}
        return self.post(f"/api/v1/applications/{app_id}/actions/{action}", user, body or {}, headers=headers)

    def app(self, app_id: int, user: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.get(f"/api/v1/applications/{app_id}", user or self.applicant)
        assert r.status_code == 200, r.text
        return r.json()

    def recommend_body(self, app: dict[str, Any]) -> dict[str, Any]:
        return {
            "scores": dict(RUBRIC_SCORES),
            "recommended_budget": dict(app["budget_totals"]),
            "notes": "Layak didanai.",
        }

    # Standard paths through the workflow (tkm.testing.builders.PATHS), from wherever the application is.
    def to_state(self, app_id: int, state: str) -> dict[str, Any]:
        from tkm.workflow import loader

        app = self.app(app_id)
        path = PATHS.get(state, [])
        reached = [loader.get(app["workflow"]).actions[a].to for a in path]
        if app["status"] in reached:  # already part of the way there
            path = path[reached.index(app["status"]) + 1 :]
        for action in path:
            self._step(app_id, action)
        return self.app(app_id)

    def prepare_completion(self, app_id: int) -> None:
        """Everything `complete` needs: reports for two months (the last one final) accepted, every tranche
        paid, and the grant money left unspent deposited back to the treasury."""
        from tkm.testing.time_travel import approve_in_the_past, period

        approve_in_the_past(self.api, app_id, 1)
        for n, final in ((1, False), (0, True)):
            self.accepted_report(app_id, period=period(n), final=final)
        self.pay_all(app_id)
        unspent = self.get(f"/api/v1/applications/{app_id}/funds-trail", self.finance).json()["totals"]["unspent"]
        if unspent:
            self.return_unspent(app_id, unspent)

    def return_unspent(self, app_id: int, amount: int, **fields: Any) -> dict[str, Any]:
        """Record the group's deposit of ``amount`` to the treasury (finance), with a proof of deposit uploaded."""
        proof = self.upload(app_id, "receipt", filename="bukti-setor.pdf")
        assert proof.status_code == 201, proof.text
        body = {
            "amount": amount,
            "deposited_on": today().isoformat(),
            "ntpn": f"{next(_ntpn):016d}",
            "attachment_id": proof.json()["id"],
            "notes": "Sisa dana bantuan disetor ke kas negara.",
            **fields,
        }
        r = self.post(f"/api/v1/applications/{app_id}/returns", self.finance, body)
        assert r.status_code == 201, r.text
        return r.json()

    def accepted_report(self, app_id: int, **fields: Any) -> dict[str, Any]:
        """File a monthly report (masks, unless ``fields`` say otherwise) and have the reviewer accept it."""
        body = {
            "production": [{"product": "masker", "unit": "pcs", "quantity": 1000}],
            "sales": [{"product": "masker", "quantity": 800, "revenue": 4_000_000}],
            "expenses": [{"category": "raw_materials", "amount": 500_000, "source": "sales"}],
            "workers": 10,
            "wages_paid": 0,
            "final": False,
            **fields,
        }
        r = self.post(f"/api/v1/applications/{app_id}/reports", self.applicant, body)
        assert r.status_code == 201, r.text
        r = self.post(f"/api/v1/reports/{r.json()['id']}/actions/accept", self.reviewer, {})
        assert r.status_code == 200, r.text
        return r.json()

    def pay_all(self, app_id: int) -> None:
        """Request, authorize and pay every tranche whose condition is met (the others wait)."""
        for t in self.get(f"/api/v1/applications/{app_id}/tranches", self.finance).json():
            if t["status"] in ("planned", "failed"):
                r = self.post(f"/api/v1/tranches/{t['id']}/actions/request", self.finance, {})
                if r.status_code == 409 and "condition" in r.json():
                    continue  # waits for reports; paid later
                assert r.status_code == 200, r.text
                t = r.json()
            self.pay(t)

    def pay(self, tranche: dict[str, Any], paid_on: dt.date | None = None) -> dict[str, Any]:
        """Take one tranche (as last read) on to paid: request (finance), authorize (finance2), pay (finance)."""
        for status, action, user in (
            (("planned", "failed"), "request", self.finance),
            (("requested",), "authorize", self.finance2),
            (("authorized",), "pay", self.finance),
        ):
            if tranche["status"] in status:
                body = (
                    {"transfer_reference": f"BRI-{tranche['reference']}", "paid_at": (paid_on or today()).isoformat()}
                    if action == "pay"
                    else {}
                )
                r = self.post(f"/api/v1/tranches/{tranche['id']}/actions/{action}", user, body)
                assert r.status_code == 200, r.text
                tranche = r.json()
        return tranche

    def _step(self, app_id: int, action: str) -> None:
        """One action of a standard path, with what it needs (attachments, a body, paid tranches)."""
        app = self.app(app_id)
        if action == "submit":
            for kind in REQUIRED_KINDS:
                if kind not in {a["kind"] for a in app["attachments"]}:
                    assert self.upload(app_id, kind).status_code == 201
            r = self.act(app_id, "submit", self.applicant)
        elif action == "start_review":
            r = self.act(app_id, "start_review", self.reviewer, {"no_conflict_of_interest": True})
        elif action == "request_revision":
            r = self.act(app_id, "request_revision", self.reviewer, {"notes": "Lengkapi foto usaha."})
        elif action == "recommend":
            r = self.act(app_id, "recommend", self.reviewer, self.recommend_body(app))
        elif action == "not_recommend":
            r = self.act(app_id, "not_recommend", self.reviewer, {"reasons": "Pasar belum jelas."})
        elif action == "approve":
            r = self.act(app_id, "approve", self.approver, {"notes": "Disetujui."})
        elif action == "reject":
            r = self.act(app_id, "reject", self.approver, {"reasons": "Anggaran terbatas."})
        elif action == "sign_agreement":
            assert self.upload(app_id, "agreement").status_code == 201
            r = self.act(app_id, "sign_agreement", self.applicant)
        elif action == "withdraw":
            r = self.act(app_id, "withdraw", self.applicant, {"reason": "Kelompok bubar."})
        elif action == "complete":
            self.prepare_completion(app_id)
            r = self.act(app_id, "complete", self.reviewer, {"notes": "Selesai."})
        elif action == "suspend":
            r = self.act(app_id, "suspend", self.approver, {"reasons": "Laporan fiktif."})
        elif action == "terminate":
            r = self.act(app_id, "terminate", self.approver, {"reasons": "Usaha tidak berjalan."})
        else:
            raise AssertionError(action)
        assert r.status_code == 200, (action, r.text)
