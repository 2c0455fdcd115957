"""Community groups: NIK checks, one funded group per person, access by owner and region."""

from __future__ import annotations

import copy

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tkm.testing.builders import members


@pytest.fixture(scope="module")
def world(module_client):
    return World(Api(module_client))


def group_body(member_list=None, **overrides):
    body = {
        "name": "Kelompok Sehati",
        "region": "13.71",
        "address": "Jl. Khatib Sulaiman 5, Padang",
        "products": ["Masker", "hand_sanitizer"],
        "training_centre": None,
        "bank_account": {"bank": "Bank Nagari", "number": "1234-5678-90", "holder": "Kelompok Sehati"},
        "members": member_list or members(8),
    }
    body.update(overrides)
    return body


def test_create_and_read_a_group(world):
    r = world.post("/api/v1/groups", world.applicant, group_body())
    assert r.status_code == 201, r.text
    group = r.json()
    assert group["member_count"] == 8 and group["products"] == ["masker", "hand_sanitizer"]
    assert group["bank_account"]["number"] == "1234567890"
    assert group["region_name"] == "Kota Padang"
    assert group["members"][0]["birth_date"] is not None
    assert world.get(f"/api/v1/groups/{group['id']}", world.applicant).json()["name"] == "Kelompok Sehati"
    assert world.get(f"/api/v1/groups/{group['id']}", world.reviewer).status_code == 200


@pytest.mark.parametrize(
    ("nik", "why"),
    [
        ("137101520385001", "15 digits"),
        ("13710152038500AB", "letters"),
        ("9971015203850001", "unknown province"),
        ("1371013102850001", "31 February"),
        ("computed below", "future birth date"),
    ],
)
def test_bad_nik_is_422_naming_the_member(world, nik, why):
    member_list = members(6)
    if why.startswith("future"):
        from tkm.programmes.services import today

        tomorrow = today().toordinal() + 1
        import datetime as dt

        d = dt.date.fromordinal(tomorrow)
        nik = f"137101{d.day:02d}{d.month:02d}{d.year % 100:02d}0001"
    member_list[4]["nik"] = nik
    r = world.post("/api/v1/groups", world.applicant, group_body(member_list))
    assert r.status_code == 422, r.text
    fields = [e["field"] for e in r.json()["errors"]]
    assert "members[4].nik" in fields, (why, r.json())


def test_duplicate_nik_within_a_group(world):
    member_list = members(6)
    member_list[5]["nik"] = member_list[1]["nik"]
    member_list[5]["gender"] = member_list[1]["gender"]
    r = world.post("/api/v1/groups", world.applicant, group_body(member_list))
    assert r.status_code == 422
    assert "members[5].nik" in [e["field"] for e in r.json()["errors"]]


def test_gender_must_match_the_nik_and_one_leader(world):
    member_list = members(6)
    member_list[0]["gender"] = "L" if member_list[0]["gender"] == "P" else "P"
    member_list[1]["role"] = "ketua"
    r = world.post("/api/v1/groups", world.applicant, group_body(member_list))
    fields = [e["field"] for e in r.json()["errors"]]
    assert r.status_code == 422 and "members[0].gender" in fields and "members" in fields


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"region": "13"}, "region"),
        ({"region": "99.99"}, "region"),
        ({"name": "  "}, "name"),
        ({"bank_account": {"bank": "BRI", "number": "12ab", "holder": "X"}}, "bank_account.number"),
        ({"training_centre": "NOPE"}, "training_centre"),
        ({"products": [""]}, "products[0]"),
    ],
)
def test_group_fields_are_checked(world, patch, field):
    r = world.post("/api/v1/groups", world.applicant, group_body(**patch))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


def test_wrong_member_role_is_a_400_naming_it(world):
    member_list = members(6)
    member_list[3]["role"] = "bos"
    r = world.post("/api/v1/groups", world.applicant, group_body(member_list))
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"].startswith("members[3].role")


def test_one_person_in_only_one_funded_group(world):
    funded = world.make_group(world.applicant, name="Kelompok Bersinar")
    app = world.new_application(group=funded)
    world.to_state(app["id"], "approved")
    person = copy.deepcopy(world.get(f"/api/v1/groups/{funded['id']}", world.applicant).json()["members"][3])
    person.pop("birth_date")
    member_list = members(6)
    member_list[2] = person
    other = world.api.make_user("applicant")
    r = world.post("/api/v1/groups", other, group_body(member_list, name="Kelompok Lain"))
    assert r.status_code == 409, r.text
    body = r.json()
    assert person["nik"] in body["detail"] and "Kelompok Bersinar" in body["detail"]
    assert body["errors"][0]["field"] == "members[2].nik"


def test_groups_are_private_to_their_owner_and_region(world):
    group = world.make_group(world.applicant, name="Kelompok Privat")
    stranger = world.api.make_user("applicant")
    jakarta = world.api.make_user("reviewer", ["31"])
    auditor = world.api.make_user("auditor")
    assert world.get(f"/api/v1/groups/{group['id']}", stranger).status_code == 404
    assert world.get(f"/api/v1/groups/{group['id']}", jakarta).status_code == 404
    assert world.get(f"/api/v1/groups/{group['id']}", auditor).status_code == 200
    assert group["id"] not in [g["id"] for g in world.get("/api/v1/groups", stranger).json()["items"]]
    assert group["id"] in [g["id"] for g in world.get("/api/v1/groups?q=privat", world.reviewer).json()["items"]]
    assert world.get("/api/v1/groups", jakarta).json()["total"] == 0
    assert world.post("/api/v1/groups", world.reviewer, group_body()).status_code == 403


def test_patch_with_if_match_and_freeze_during_review(world):
    group = world.make_group(world.applicant, name="Kelompok Ubah")
    path = f"/api/v1/groups/{group['id']}"
    r = world.client.patch(
        path,
        json={"name": "Kelompok Ubah Baru"},
        headers={**world.applicant["headers"], "If-Match": f'"{group["version"]}"'},
    )
    assert r.status_code == 200 and r.json()["version"] == group["version"] + 1
    stale = world.client.patch(
        path, json={"name": "Lagi"}, headers={**world.applicant["headers"], "If-Match": f'"{group["version"]}"'}
    )
    assert stale.status_code == 412
    assert world.get(path, world.applicant).json()["name"] == "Kelompok Ubah Baru"
    stranger = world.api.make_user("applicant")
    assert world.client.patch(path, json={"name": "X"}, headers=stranger["headers"]).status_code == 404
    app = world.new_application(group=r.json())
    world.to_state(app["id"], "in_review")
    r = world.client.patch(path, json={"members": members(6)}, headers=world.applicant["headers"])
    assert r.status_code == 409
    assert world.get(path, world.applicant).json()["member_count"] == 10
