"""Application pages: the form with its budget, documents (413/415 shown at the file field), buttons only for the
allowed actions, action forms and their errors, inline attachments, the review queue and decisions on several
applications at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tests.support.pages import Pages, text, textarea_of, value_of
from tkm.testing import samples
from tkm.testing.builders import REQUIRED_KINDS, RUBRIC_SCORES


@pytest.fixture(scope="module")
def world(module_client):
    w = World(Api(module_client))
    w.other_applicant = w.api.make_user("applicant")
    w.outsider = w.api.make_user("reviewer", ["31"])
    return w


def app_form(world, group, **overrides):
    data = {
        "group_id": str(group["id"]),
        "programme": world.programme["code"],
        "business_plan.summary": "Menjahit masker kain dan membuat sabun.",
        "business_plan.market": "Apotek dan pasar di Padang.",
        "business_plan.workers": "8",
        "business_plan.products[0].product": "masker",
        "business_plan.products[0].unit": "pcs",
        "business_plan.products[0].units_per_day": "200",
        "business_plan.products[0].unit_cost": "2.500",
        "business_plan.products[0].unit_price": "Rp5.000",
    }
    lines = [
        ("capital", "Mesin jahit", "2", "paket", "4.500.000"),
        ("wages", "Upah penjahit", "50", "hari", "80000"),
        ("marketing", "Promosi", "1", "paket", "1.000.000"),
    ]
    for i, (component, description, quantity, unit, cost) in enumerate(lines):
        data.update(
            {
                f"budget[{i}].component": component,
                f"budget[{i}].description": description,
                f"budget[{i}].quantity": quantity,
                f"budget[{i}].unit": unit,
                f"budget[{i}].unit_cost": cost,
            }
        )
    data.update(overrides)
    return data


def fresh_group(world, name):
    return world.make_group(world.applicant, name=name)


def action_forms(html):
    """The workflow actions a page offers as forms."""
    return set(re.findall(r'action="/applications/\d+/actions/([a-z_]+)"', html))


def test_create_an_application_through_the_form(world, client):
    group = fresh_group(world, "Kelompok Formulir")
    pages = Pages(client).login(world.applicant)
    page = pages.get(f"/applications/new?group_id={group['id']}")
    assert page.status_code == 200
    assert f'value="{world.programme["code"]}"' in page.text
    r = pages.post("/applications/new", app_form(world, group))
    assert r.status_code == 303, text(r.text)[:3000]
    app_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = pages.follow(r)
    assert f"Permohonan #{app_id} disimpan sebagai draf." in text(page.text)
    app = world.app(app_id)
    assert app["status"] == "draft"
    assert app["budget_totals"] == {"capital": 9_000_000, "wages": 4_000_000, "marketing": 1_000_000}
    assert app["business_plan"]["products"][0]["unit_cost"] == 2500
    assert "Rp14.000.000" in text(page.text)


def test_budget_errors_are_named_at_their_line_and_the_input_stays(world, client):
    group = fresh_group(world, "Kelompok Salah Anggaran")
    pages = Pages(client).login(world.applicant)
    form = app_form(
        world,
        group,
        **{
            "budget[1].unit_cost": "150.000",  # above the daily wage cap of Rp100.000
            "budget[2].quantity": "dua",
            "budget[0].quantity": "3",  # 3 × 4.5 M = 13.5 M, above the capital cap of 12 M
        },
    )
    r = pages.post("/applications/new", form)
    assert r.status_code == 422
    wage = re.search(r'id="f-budget-1-unit_cost-error"[^>]*>([^<]+)<', r.text)
    assert wage and "Rp100.000" in wage.group(1)
    assert re.search(r'id="f-budget-2-quantity-error"[^>]*>[^<]*bilangan bulat', r.text)
    assert value_of(r.text, "budget[2].quantity") == "dua"
    assert value_of(r.text, "budget[1].unit_cost") == "150.000"
    assert textarea_of(r.text, "business_plan.summary") == "Menjahit masker kain dan membuat sabun."
    # The line total and the component total are worked out on the server too (no JavaScript needed).
    assert "Rp13.500.000" in r.text
    mine = world.get("/api/v1/applications", world.applicant).json()["items"]
    assert all(a["group"]["id"] != group["id"] for a in mine), "nothing was saved"
    # Over the component cap only (the lines themselves are fine): said in the totals row.
    r = pages.post("/applications/new", app_form(world, group, **{"budget[0].quantity": "3"}))
    assert r.status_code == 422
    row = re.search(r'<tr data-component="capital"[^>]*class="over"[^>]*>(.*?)</tr>', r.text, re.S)
    assert row and "melebihi batas program" in text(row.group(1))


def test_numbers_that_are_not_numbers_are_asked_again(world, client):
    group = fresh_group(world, "Kelompok Angka")
    pages = Pages(client).login(world.applicant)
    r = pages.post("/applications/new", app_form(world, group, **{"business_plan.workers": "delapan"}))
    assert r.status_code == 422
    assert re.search(r'id="f-business_plan-workers-error"[^>]*>Isi dengan bilangan bulat', r.text)
    assert value_of(r.text, "business_plan.workers") == "delapan"


def test_budget_rows_can_be_added_without_javascript(world, client):
    group = fresh_group(world, "Kelompok Baris")
    pages = Pages(client).login(world.applicant)
    r = pages.post("/applications/new", {**app_form(world, group), "_add": "budget"})
    assert r.status_code == 200
    assert value_of(r.text, "budget[3].description") == ""
    r = pages.post("/applications/new", {**app_form(world, group), "_remove": "budget:0"})
    assert value_of(r.text, "budget[0].description") == "Upah penjahit"
    assert value_of(r.text, "budget[2].description") is None


def test_upload_errors_are_shown_at_the_file_field(world, client):
    app = world.new_application(group=fresh_group(world, "Kelompok Unggah"))
    pages = Pages(client).login(world.applicant)
    url = f"/applications/{app['id']}/attachments"
    r = pages.post(url, {"kind": "proposal"}, files={"file": ("catatan.txt", b"hanya teks biasa\n", "text/plain")})
    assert r.status_code == 415
    error = re.search(r'id="f-file-error"[^>]*>([^<]+)<', r.text)
    assert error and "PDF, JPEG" in error.group(1)
    too_big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)
    r = pages.post(url, {"kind": "proposal"}, files={"file": ("besar.pdf", too_big, "application/pdf")})
    assert r.status_code == 413
    assert "10 MB" in re.search(r'id="f-file-error"[^>]*>([^<]+)<', r.text).group(1)
    # Far above the limit, the request is refused before the page handler runs: the error page explains it
    # and leads back to the application.
    huge = b"%PDF-1.4\n" + b"0" * (12 * 1024 * 1024)
    back = {"referer": f"http://testserver.local/applications/{app['id']}"}
    r = pages.post(url, {"kind": "proposal"}, files={"file": ("besar.pdf", huge, "application/pdf")}, headers=back)
    assert r.status_code == 413
    assert "paling besar 10 MB" in text(r.text) and "Entity" not in r.text
    assert f'href="/applications/{app["id"]}"' in r.text
    r = pages.post(url, {"kind": "proposal"}, files={"file": ("", b"", "application/octet-stream")})
    assert r.status_code == 422 and "Pilih berkas" in text(r.text)
    assert world.app(app["id"])["attachments"] == []
    r = pages.post(url, {"kind": "ktp"}, files={"file": ("ktp.jpg", samples.jpeg(), "image/jpeg")})
    assert r.status_code == 303
    page = pages.follow(r)
    assert "KTP anggota berhasil diunggah: ktp.jpg." in text(page.text)


def test_buttons_follow_the_allowed_actions(world, client):
    app = world.new_application(group=fresh_group(world, "Kelompok Tombol"))
    url = f"/applications/{app['id']}"
    pages = Pages(client).login(world.applicant)
    page = pages.get(url)
    assert action_forms(page.text) == {"withdraw"}, "no submit before the documents are in"
    assert "Unggah dulu dokumen berikut" in text(page.text)
    for kind in REQUIRED_KINDS:
        assert world.upload(app["id"], kind).status_code == 201
    assert action_forms(pages.get(url).text) == {"submit", "withdraw"}

    world.to_state(app["id"], "submitted")
    assert action_forms(pages.get(url).text) == {"withdraw"}
    assert 'enctype="multipart/form-data"' not in pages.get(url).text, "no uploads once submitted"
    reviewer = Pages(client).login(world.reviewer)
    page = reviewer.get(url)
    assert action_forms(page.text) == {"start_review"}
    assert 'name="no_conflict_of_interest"' in page.text
    approver = Pages(client).login(world.approver)
    assert action_forms(approver.get(url).text) == set()

    world.to_state(app["id"], "in_review")
    page = Pages(client).login(world.reviewer).get(url)
    assert action_forms(page.text) == {"request_revision", "recommend", "not_recommend"}
    # The rubric and the budget come from the workflow file and the application.
    for criterion in RUBRIC_SCORES:
        assert f'name="scores.{criterion}"' in page.text
    assert value_of(page.text, "recommended_budget.capital") == str(world.app(app["id"])["budget_totals"]["capital"])


def test_an_action_form_error_keeps_the_state_and_names_the_field(world, client):
    app = world.new_application(group=fresh_group(world, "Kelompok Deklarasi"))
    world.to_state(app["id"], "submitted")
    version = world.app(app["id"])["version"]
    pages = Pages(client).login(world.reviewer)
    r = pages.post(f"/applications/{app['id']}/actions/start_review", {"version": str(version)})
    assert r.status_code == 422
    assert re.search(r'id="f-start_review-no_conflict_of_interest-error"', r.text)
    assert world.app(app["id"])["status"] == "submitted"
    r = pages.post(
        f"/applications/{app['id']}/actions/start_review", {"version": str(version), "no_conflict_of_interest": "on"}
    )
    assert r.status_code == 303
    assert "Mulai verifikasi: berhasil" in text(pages.follow(r).text)
    assert world.app(app["id"])["status"] == "in_review"
    # The page read before that change is stale now: 412, nothing happens, the page says so.
    r = pages.post(
        f"/applications/{app['id']}/actions/request_revision", {"version": str(version), "notes": "Foto kurang jelas."}
    )
    assert r.status_code == 412
    assert "berubah sejak Anda membacanya" in text(r.text)
    assert textarea_of(r.text, "notes") == "Foto kurang jelas."
    assert world.app(app["id"])["status"] == "in_review"


def test_recommend_through_the_form_with_scores_and_budget(world, client):
    app = world.new_application(group=fresh_group(world, "Kelompok Nilai"))
    world.to_state(app["id"], "in_review")
    current = world.app(app["id"])
    pages = Pages(client).login(world.reviewer)
    form = {"version": str(current["version"]), "notes": "Layak."}
    form.update({f"scores.{k}": str(v) for k, v in RUBRIC_SCORES.items()})
    form.update({f"recommended_budget.{k}": f"{v:,}".replace(",", ".") for k, v in current["budget_totals"].items()})
    form["recommended_budget.capital"] = "Rp9.000.000"
    missing = {k: v for k, v in form.items() if k != "scores.market"}
    r = pages.post(f"/applications/{app['id']}/actions/recommend", missing)
    assert r.status_code == 422
    assert "market" in text(r.text)
    assert value_of(r.text, "recommended_budget.capital") == "Rp9.000.000"
    assert 'value="4" checked' in r.text, "chosen scores stay chosen"
    r = pages.post(f"/applications/{app['id']}/actions/recommend", form)
    assert r.status_code == 303
    after = world.app(app["id"])
    assert after["status"] == "recommended"
    assert after["recommended_budget"]["capital"] == 9_000_000
    page = pages.follow(r)
    assert "Rekomendasikan" in text(page.text) and "Layak." in text(page.text)


def test_someone_elses_application_is_not_found(world, client):
    app = world.new_application(group=fresh_group(world, "Kelompok Rahasia"))
    attachment = world.upload(app["id"], "proposal", samples.pdf(), "proposal.pdf").json()
    for user in (world.other_applicant, world.outsider):
        pages = Pages(client).login(user)
        for url in (f"/applications/{app['id']}", f"/attachments/{attachment['id']}/inline"):
            r = pages.get(url)
            assert r.status_code == 404, (url, user["role"])
            assert "Kelompok Rahasia" not in r.text
        r = pages.post(f"/applications/{app['id']}/actions/withdraw", {"reason": "iseng"})
        assert r.status_code == 404
    assert world.app(app["id"])["status"] == "draft"


def test_attachments_are_shown_inline_for_those_who_may_see_them(world, client):
    app = world.new_application(group=fresh_group(world, "Kelompok Lampiran"))
    image = world.upload(app["id"], "photo", samples.png(), "foto.png").json()
    pages = Pages(client).login(world.reviewer)
    r = pages.get(f"/attachments/{image['id']}/inline")
    assert r.status_code == 200
    assert r.content == samples.png()
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"].startswith("inline")
    assert r.headers["x-content-type-options"] == "nosniff"
    page = pages.get(f"/applications/{app['id']}")
    assert f'<img src="/attachments/{image["id"]}/inline"' in page.text


def test_the_review_queue_filters_searches_and_pages(world, client):
    names = [f"Kelompok Antrean {i}" for i in range(3)]
    apps = [world.new_application(group=fresh_group(world, name)) for name in names]
    for app in apps:
        world.to_state(app["id"], "submitted")
    pages = Pages(client).login(world.reviewer)
    page = pages.get("/review?status=submitted")
    assert page.status_code == 200
    assert all(f'href="/applications/{a["id"]}"' in page.text for a in apps)
    page = pages.get("/review", params={"q": "Antrean 1"})
    assert f'href="/applications/{apps[1]["id"]}"' in page.text
    assert f'href="/applications/{apps[0]["id"]}"' not in page.text
    page = pages.get("/review", params={"region": "13.72"})  # Kota Solok: none of them
    assert all(f'href="/applications/{a["id"]}"' not in page.text for a in apps)
    # Pages: two per page here; the links keep the filters.
    first = pages.get("/review", params={"status": "submitted", "q": "Antrean", "per_page": 2})
    assert "Halaman 1 dari 2" in text(first.text)
    assert 'href="?status=submitted&amp;q=Antrean&amp;per_page=2&amp;page=2"' in first.text
    second = pages.get("/review", params={"status": "submitted", "q": "Antrean", "per_page": 2, "page": 2})
    shown = [a for a in apps if f'href="/applications/{a["id"]}"' in second.text]
    assert len(shown) == 1 and "Halaman 2 dari 2" in text(second.text)
    assert pages.get("/review?page=0").status_code == 422
    # Staff outside the region see none of it.
    outsider = Pages(client).login(world.outsider)
    assert all(f'href="/applications/{a["id"]}"' not in outsider.get("/review").text for a in apps)
    assert pages.get("/approvals").status_code == 403


def test_approve_several_at_once_reports_each(world, client):
    first = world.new_application(group=fresh_group(world, "Kelompok Setuju A"))
    second = world.new_application(group=fresh_group(world, "Kelompok Setuju B"))
    still_in_review = world.new_application(group=fresh_group(world, "Kelompok Masih Diverifikasi"))
    world.to_state(first["id"], "recommended")
    world.to_state(second["id"], "recommended")
    world.to_state(still_in_review["id"], "in_review")
    pages = Pages(client).login(world.approver)
    page = pages.get("/approvals")
    assert f'value="{first["id"]}:' in page.text and f'value="{second["id"]}:' in page.text
    assert f'value="{still_in_review["id"]}:' not in page.text, "the approver's list holds what waits for them"
    versions = {a["id"]: world.app(a["id"])["version"] for a in (first, second, still_in_review)}
    picked = [("application", f"{i}:{v}") for i, v in versions.items()]
    r = pages.post("/approvals", [*picked, ("action", "approve"), ("text", "Disetujui bersama.")])
    assert r.status_code == 303
    page = text(pages.follow(r).text)
    assert "2 dari 3 permohonan berhasil diproses." in page
    assert f"#{first['id']}: Setujui, sekarang Disetujui." in page
    assert f"#{second['id']}: Setujui, sekarang Disetujui." in page
    assert f"#{still_in_review['id']} ditolak sistem:" in page
    assert world.app(first["id"])["status"] == world.app(second["id"])["status"] == "approved"
    assert world.app(still_in_review["id"])["status"] == "in_review"
    assert world.app(first["id"])["history"][-1]["notes"] == "Disetujui bersama."


def test_reject_several_needs_reasons_and_nothing_is_refused_silently(world, client):
    app = world.new_application(group=fresh_group(world, "Kelompok Tolak"))
    world.to_state(app["id"], "not_recommended")
    version = world.app(app["id"])["version"]
    pages = Pages(client).login(world.approver)
    r = pages.post("/approvals", [("application", f"{app['id']}:{version}"), ("action", "reject"), ("text", "")])
    page = text(pages.follow(r).text)
    assert "0 dari 1 permohonan berhasil diproses." in page and f"#{app['id']} ditolak sistem:" in page
    r = pages.post("/approvals", [("application", f"{app['id']}:{version}"), ("action", "launch"), ("text", "x")])
    assert "Pilih tindakan" in text(pages.follow(r).text)
    r = pages.post(
        "/approvals", [("application", f"{app['id']}:{version}"), ("action", "reject"), ("text", "Dana habis.")]
    )
    assert f"#{app['id']}: Tolak, sekarang Ditolak." in text(pages.follow(r).text)
    assert world.app(app["id"])["status"] == "rejected"


def test_revision_then_resubmit_and_sign_the_agreement(world, client):
    app = world.new_application(group=fresh_group(world, "Kelompok Perbaikan"))
    world.to_state(app["id"], "revision_requested")
    pages = Pages(client).login(world.applicant)
    page = pages.get(f"/applications/{app['id']}")
    assert "Lengkapi foto usaha." in text(page.text), "the reviewer's request is shown"
    assert f'href="/applications/{app["id"]}/edit"' in page.text
    edit = pages.get(f"/applications/{app['id']}/edit")
    assert value_of(edit.text, "budget[0].description") == "Mesin jahit dan bahan kain"
    current = world.app(app["id"])
    form = app_form(world, current["group"], version=str(current["version"]))
    r = pages.post(f"/applications/{app['id']}/edit", form)
    assert r.status_code == 303
    assert world.app(app["id"])["requested_total"] == 14_000_000
    version = world.app(app["id"])["version"]
    r = pages.post(f"/applications/{app['id']}/actions/resubmit", {"version": str(version)})
    assert r.status_code == 303 and world.app(app["id"])["status"] == "submitted"
    assert pages.get(f"/applications/{app['id']}/edit").status_code == 409

    world.to_state(app["id"], "approved")
    pages = Pages(client).login(world.applicant)
    page = pages.get(f"/applications/{app['id']}")
    assert "sign_agreement" not in action_forms(page.text)
    r = pages.post(
        f"/applications/{app['id']}/attachments",
        {"kind": "agreement"},
        files={"file": ("perjanjian.pdf", samples.pdf("Perjanjian"), "application/pdf")},
    )
    assert r.status_code == 303
    page = pages.get(f"/applications/{app['id']}")
    assert "sign_agreement" in action_forms(page.text)
    r = pages.post(
        f"/applications/{app['id']}/actions/sign_agreement", {"version": str(world.app(app["id"])["version"])}
    )
    assert r.status_code == 303 and world.app(app["id"])["status"] == "active"


def test_action_posts_need_the_csrf_token(world, client):
    app = world.new_application(group=fresh_group(world, "Kelompok Token"))
    pages = Pages(client).login(world.applicant)
    r = pages.post(f"/applications/{app['id']}/actions/withdraw", {"reason": "x"}, csrf=False)
    assert r.status_code == 403
    assert world.app(app["id"])["status"] == "draft"


def test_other_domains_can_add_panels_to_the_application_page(world, client, monkeypatch):
    from tkm.web import nav

    seen = []

    async def load(app, user):
        seen.append((app["id"], user.role))
        return {"title": "Termin pembayaran", "rows": [["Modal kerja", "Rp9.000.000"]], "links": [["SPM", "/x"]]}

    panel = nav.Panel("partials/panel.html", load=load, roles=("reviewer",))
    monkeypatch.setattr(nav, "all_panels", lambda: (panel,))
    app = world.new_application(group=fresh_group(world, "Kelompok Panel"))
    page = text(Pages(client).login(world.reviewer).get(f"/applications/{app['id']}").text)
    assert "Termin pembayaran" in page and "Modal kerja Rp9.000.000" in page
    page = text(Pages(client).login(world.applicant).get(f"/applications/{app['id']}").text)
    assert "Termin pembayaran" not in page, "only for the roles the panel names"
    assert seen == [(app["id"], "reviewer")]


def test_error_pages_speak_the_users_language(world, client):
    pages = Pages(client).login(world.applicant)
    r = pages.get("/tidak-ada")
    assert r.status_code == 404
    assert "Tidak ditemukan" in text(r.text) and "Not Found" not in r.text
    assert client.get("/api/v1/tidak-ada").json()["status"] == 404, "the API still answers JSON"


def test_start_pages_per_role_and_the_english_switch(world, client):
    app = world.new_application(group=fresh_group(world, "Kelompok Beranda"))
    world.to_state(app["id"], "submitted")
    pages = Pages(client).login(world.applicant)
    page = text(pages.get("/").text)
    assert "Permohonan saya" in page and "Kelompok Beranda" in page and "Diajukan" in page
    page = pages.get("/")
    assert 'href="/review"' not in page.text
    reviewer = Pages(client).login(world.reviewer)
    page = reviewer.get("/")
    assert 'href="/review"' in page.text and "Menunggu Anda" in text(page.text)
    r = reviewer.get("/lang/en?next=/review", follow_redirects=False)
    assert r.status_code in (302, 303)
    page = text(reviewer.get("/review").text)
    assert "Review queue" in page and "Submitted" in page and "Antrean verifikasi" not in page
