"""Group pages: register through the form, errors next to the field with the typed input kept, the NIK check
partial, CSRF, and someone else's group answered as 404 (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tests.support.pages import Pages, text, value_of
from tkm.testing.builders import members, nik


@pytest.fixture(scope="module")
def world(module_client):
    w = World(Api(module_client))
    w.other_applicant = w.api.make_user("applicant")
    return w


def group_form(member_list, **overrides):
    data = {
        "name": "Kelompok Halaman Uji",
        "province": "13",
        "region": "13.71",
        "address": "Jl. Sudirman 2, Padang",
        "products": "Masker, sabun",
        "training_centre": "",
        "bank_account.bank": "BRI",
        "bank_account.number": "0021-0100-0123",
        "bank_account.holder": "Kelompok Halaman Uji",
    }
    for i, m in enumerate(member_list):
        for key in ("nik", "name", "role", "gender", "phone"):
            data[f"members[{i}].{key}"] = m[key]
    data.update(overrides)
    return data


def my_groups(world, user):
    return world.get("/api/v1/groups", user).json()["items"]


def test_pages_need_a_login(client):
    r = Pages(client).get("/groups/new")
    assert r.status_code == 401
    assert 'href="/login?next=/groups/new"' in r.text


def test_register_a_group_through_the_form(world, client):
    pages = Pages(client).login(world.applicant)
    r = pages.post("/groups/new", group_form(members(6)))
    assert r.status_code == 303, text(r.text)[:2000]
    group_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = pages.follow(r)
    assert "Kelompok Halaman Uji berhasil didaftarkan." in text(page.text)
    group = world.get(f"/api/v1/groups/{group_id}", world.applicant).json()
    assert group["member_count"] == 6 and group["products"] == ["masker", "sabun"]
    assert group["bank_account"]["number"] == "002101000123"
    assert "Kota Padang, Sumatera Barat" in text(page.text)


def test_a_bad_nik_is_named_at_its_row_and_the_typed_input_stays(world, client):
    pages = Pages(client).login(world.applicant)
    member_list = members(6)
    member_list[1]["nik"] = "1371013102850001"  # 31 February
    member_list[4]["gender"] = ""  # not chosen
    before = len(my_groups(world, world.applicant))
    r = pages.post("/groups/new", group_form(member_list, name="Kelompok Typo"))
    assert r.status_code == 422
    assert value_of(r.text, "name") == "Kelompok Typo"
    assert value_of(r.text, "members[1].nik") == "1371013102850001"
    assert value_of(r.text, "members[3].name") == member_list[3]["name"]
    # The choice not made is named first (the service is asked once the form is complete).
    assert re.search(r'id="f-members-4-gender-error"[^>]*>Pilih laki-laki \(L\) atau perempuan \(P\)', r.text)
    r = pages.post("/groups/new", group_form([*member_list[:4], members(1)[0] | {"role": "anggota"}, member_list[5]]))
    assert r.status_code == 422
    error = re.search(r'id="f-members-1-nik-error"[^>]*>([^<]+)<', r.text)
    assert error and "bukan tanggal lahir yang benar" in error.group(1), error
    assert 'href="#f-members-1-nik"' in r.text, "the summary at the top links to the field"
    assert 'aria-invalid="true"' in r.text
    assert len(my_groups(world, world.applicant)) == before


def test_group_level_errors_are_shown_above_the_members(world, client):
    pages = Pages(client).login(world.applicant)
    member_list = members(5)
    member_list[1]["role"] = "ketua"  # two leaders
    r = pages.post("/groups/new", group_form(member_list, region=""))
    assert r.status_code == 422
    page = text(r.text)
    assert "tepat satu ketua" in page
    assert re.search(r'id="f-region-error"', r.text)


def test_rows_are_added_and_removed_without_javascript(world, client):
    pages = Pages(client).login(world.applicant)
    before = len(my_groups(world, world.applicant))
    r = pages.post("/groups/new", {**group_form(members(5)), "_add": "member"})
    assert r.status_code == 200
    assert value_of(r.text, "members[5].nik") == ""
    assert value_of(r.text, "members[4].nik") == members(5)[4]["nik"][:6] + value_of(r.text, "members[4].nik")[6:]
    r = pages.post("/groups/new", {**group_form(members(5)), "_remove": "0"})
    assert value_of(r.text, "members[4].nik") is None and value_of(r.text, "members[3].nik")
    assert len(my_groups(world, world.applicant)) == before, "adding a row saves nothing"


def test_a_form_without_the_csrf_token_is_refused(world, client):
    pages = Pages(client).login(world.applicant)
    before = len(my_groups(world, world.applicant))
    r = pages.post("/groups/new", group_form(members(5)), csrf=False)
    assert r.status_code == 403
    assert "Token keamanan formulir" in text(r.text)
    r = pages.post("/groups/new", [*group_form(members(5)).items(), ("_csrf_token", "x" * 128)], csrf=False)
    assert r.status_code == 403
    assert len(my_groups(world, world.applicant)) == before


def test_someone_elses_group_is_not_found(world, client):
    group_id = world.group["id"]
    pages = Pages(client).login(world.other_applicant)
    for url in (f"/groups/{group_id}", f"/groups/{group_id}/edit"):
        r = pages.get(url)
        assert r.status_code == 404, url
        assert world.group["name"] not in r.text
    r = pages.post(f"/groups/{group_id}/edit", group_form(members(5), name="Dibajak"))
    assert r.status_code == 404
    assert world.get(f"/api/v1/groups/{group_id}", world.applicant).json()["name"] != "Dibajak"


def test_staff_see_groups_of_their_region_but_cannot_change_them(world, client):
    pages = Pages(client).login(world.reviewer)
    r = pages.get(f"/groups/{world.group['id']}")
    assert r.status_code == 200 and world.group["members"][0]["nik"] in r.text
    assert f'href="/groups/{world.group["id"]}/edit"' not in r.text
    assert pages.get(f"/groups/{world.group['id']}/edit").status_code == 403


def test_change_a_group_with_its_version(world, client):
    group = world.make_group(world.applicant, name="Kelompok Lama")
    pages = Pages(client).login(world.applicant)
    page = pages.get(f"/groups/{group['id']}/edit")
    assert page.status_code == 200
    assert value_of(page.text, "version") == str(group["version"])
    assert value_of(page.text, "members[0].nik") == group["members"][0]["nik"]
    form = {
        "name": "Kelompok Baru",
        "region": group["region"],
        "address": group["address"],
        "products": ", ".join(group["products"]),
        "training_centre": "",
        "bank_account.bank": group["bank_account"]["bank"],
        "bank_account.number": group["bank_account"]["number"],
        "bank_account.holder": group["bank_account"]["holder"],
        "version": str(group["version"]),
    }
    for i, m in enumerate(group["members"]):
        for key in ("nik", "name", "role", "gender", "phone"):
            form[f"members[{i}].{key}"] = m[key]
    r = pages.post(f"/groups/{group['id']}/edit", form)
    assert r.status_code == 303
    after = world.get(f"/api/v1/groups/{group['id']}", world.applicant).json()
    assert after["name"] == "Kelompok Baru" and after["version"] == group["version"] + 1
    # The same form again carries the old version: refused, the typed name stays, the reason is shown.
    r = pages.post(f"/groups/{group['id']}/edit", {**form, "name": "Kelompok Ketiga"})
    assert r.status_code == 412
    assert value_of(r.text, "name") == "Kelompok Ketiga"
    assert "berubah sejak Anda membacanya" in text(r.text)


def test_the_nik_check_says_what_the_nik_encodes(world, client):
    import datetime as dt

    pages = Pages(client).login(world.applicant)
    number = nik("137101", dt.date(1985, 3, 12), female=True)

    def check(**fields):
        r = pages.post("/groups/check-nik", fields, headers={"hx-request": "true"})
        assert r.status_code == 200
        return r

    r = check(nik=number, gender="P")
    assert "<html" not in r.text, "a partial, not a page"
    page = text(r.text)
    assert "Kota Padang, Sumatera Barat" in page and "lahir 12 Maret 1985" in page and "Perempuan (P)" in page
    assert 'data-gender="P"' in r.text
    # The member row's own field names work as well (htmx sends them), and a wrong gender is pointed out.
    r = check(**{"members[3].nik": number, "members[3].gender": "L"})
    assert "menurut NIK: Perempuan (P)" in text(r.text)
    assert "bukan tanggal lahir" in text(check(nik="1371013102850001").text)
    assert "12 dari 16 angka" in text(check(nik="137101520385").text)
    assert "Enam angka pertama" in text(check(nik="9971015203850001").text)
    # A NIK is personal data: never in a URL (access logs), and the check needs the CSRF token like any POST.
    assert pages.get(f"/groups/check-nik?nik={number}").status_code == 405
    assert pages.post("/groups/check-nik", {"nik": number}, csrf=False).status_code == 403


def test_region_options_follow_the_province(world, client):
    pages = Pages(client).login(world.applicant)
    r = pages.get("/groups/region-options?province=13")
    assert 'value="13.71"' in r.text and "Kota Padang" in r.text
    assert 'value="31.71"' not in r.text
