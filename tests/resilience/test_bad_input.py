"""Crafted input never gives a 500: ids out of range, control characters, Unicode digits, malformed filters,
deep JSON, repeated multipart fields. Every refusal is problem+json naming the field, in the caller's language,
with no Python type name or traceback in it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.factories import World
from tkm.testing.samples import pdf

#: What a leaked Python error looks like in a message: a type name or a traceback.
LEAKS = re.compile(
    r"Traceback|File \"|`(?:str|int|float|bool|object|array|null|list|bytes)\b[^`]*`|"
    r"\b(?:NoneType|dict|bytes|UploadFile|ValueError|TypeError|KeyError|DataError|asyncpg|msgspec|litestar|"
    r"piccolo)\b|<class"
)


@pytest.fixture(scope="module")
def world(module_client):
    return World(Api(module_client))


@pytest.fixture(scope="module")
def draft(world):
    return world.new_application()


def problem(response: Any, status: int | tuple[int, ...]) -> dict[str, Any]:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert not LEAKS.search(response.text), response.text
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body.get("errors", [])]


@pytest.mark.parametrize("value", [2**31, 2**31 - 1 + 10, 2**63, 10**30, -1, 0])
def test_ids_out_of_range_are_404(world, draft, value):
    for path in (
        f"/api/v1/applications/{value}",
        f"/api/v1/groups/{value}",
        f"/api/v1/attachments/{value}",
        f"/api/v1/documents/{value}",
        f"/api/v1/reports/{value}",
        f"/api/v1/applications/{value}/tranches",
        f"/api/v1/applications/{value}/funds-trail",
    ):
        problem(world.get(path, world.admin), 404)
    problem(world.post(f"/api/v1/tranches/{value}/actions/request", world.finance, {}), 404)
    problem(world.post(f"/api/v1/applications/{value}/actions/submit", world.applicant, {}), 404)


@pytest.mark.parametrize("segment", ["٣", "²", "3_0", "+3", "%EF%BC%93"])
def test_ids_in_other_digits_are_404(world, draft, segment):
    # int() reads "٣" (Arabic-Indic three) and "3_0"; the id must be written in 0-9.
    problem(world.get(f"/api/v1/applications/{segment}", world.applicant), 404)


def test_a_real_id_still_works(world, draft):
    assert world.get(f"/api/v1/applications/{draft['id']}", world.applicant).status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=9223372036854775808", "page"),
        ("page=100000000", "page"),
        ("per_page=201", "per_page"),
        ("per_page=99999999999999999999", "per_page"),
        ("status=,", "status"),
        ("status=%2C%2C", "status"),
    ],
)
def test_pages_and_filters_out_of_bounds_are_422_naming_the_parameter(world, query, field):
    body = problem(world.get(f"/api/v1/applications?{query}", world.admin), 422)
    assert field in fields(body)


@pytest.mark.parametrize("q", ["²", "٣", "¹²³", "99999999999999999999", "#٣", "3"])
def test_search_with_unicode_digits_is_a_search_not_an_id(world, draft, q):
    r = world.get("/api/v1/applications", world.admin, params={"q": q})
    assert r.status_code == 200, r.text
    ids = [item["id"] for item in r.json()["items"]]
    if q == "3":
        return
    assert ids == [], "a digit that is not 0-9 never finds an application by id"


@pytest.mark.parametrize("path", ["/api/v1/applications", "/api/v1/groups", "/api/v1/programmes", "/api/v1/users"])
def test_nul_in_query_strings_is_422_naming_the_parameter(world, path):
    body = problem(world.get(path, world.admin, params={"q": "a\x00b", "region": "13"}), 422)
    assert fields(body) == ["q"]
    body = problem(world.get(path, world.admin, params={"region": "1\x073"}), 422)
    assert fields(body) == ["region"]


def test_nul_in_json_at_any_depth_is_422_naming_the_field(world):
    r = world.client.post("/api/v1/auth/login", json={"email": "a\x00@x.id", "password": "x"})
    assert fields(problem(r, 422)) == ["email"]
    r = world.client.post(
        "/api/v1/auth/register", json={"email": "b@x.id", "name": "N\x00", "password": "x" * 12, "phone": ""}
    )
    assert fields(problem(r, 422)) == ["name"]
    body = {
        "name": "Kelompok",
        "region": "13.71",
        "address": "Jl. 1",
        "products": ["masker"],
        "bank_account": {"bank": "BRI", "number": "1", "holder": "H\x1bolder"},
        "members": [{"nik": "1", "name": "A"}, {"nik": "2", "name": "B\u0085"}],
    }
    r = world.post("/api/v1/groups", world.applicant, body)
    assert sorted(fields(problem(r, 422))) == ["bank_account.holder", "members[1].name"]
    r = world.post("/api/v1/groups", world.applicant, {"na\x00me": "x"})
    assert fields(problem(r, 422)) == ["body"]
    # A lone surrogate cannot be stored as UTF-8: the decoder refuses it.
    r = world.client.post(
        "/api/v1/auth/login",
        content=b'{"email": "\\ud800@x.id", "password": "x"}',
        headers={"content-type": "application/json"},
    )
    assert fields(problem(r, (400, 422))) in (["email"], ["body"])


def test_line_breaks_are_text_in_bodies(world, draft):
    r = world.post(
        f"/api/v1/applications/{draft['id']}/actions/withdraw",
        world.applicant,
        {"reason": "Baris satu\r\nbaris\tdua"},
        headers={"If-Match": f'"{draft["version"]}"'},
    )
    assert r.status_code == 200, r.text


def test_nul_in_a_header_that_is_read_is_422(world, draft):
    r = world.client.post(
        f"/api/v1/applications/{draft['id']}/actions/submit",
        headers={**world.applicant["headers"], "If-Match": '"1\x00"'},
    )
    assert fields(problem(r, 422)) == ["if-match"]


def test_nul_in_a_form_is_422(world):
    r = world.client.post(
        "/login", data={"email": "a\x00@x.id", "password": "x"}, headers={"accept": "application/json"}
    )
    body = problem(r, 422)
    assert fields(body) == ["email"]


def multipart(*parts: tuple[str, str | None, bytes]) -> tuple[bytes, dict[str, str]]:
    """A multipart body written by hand, so a file name reaches the server exactly as given (httpx escapes)."""
    boundary = b"tkmboundary7"
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += b"--" + boundary + b"\r\nContent-Disposition: " + disposition.encode() + b"\r\n"
        if filename is not None:
            out += b"Content-Type: application/pdf\r\n"
        out += b"\r\n" + content + b"\r\n"
    out += b"--" + boundary + b"--\r\n"
    return out, {"content-type": "multipart/form-data; boundary=tkmboundary7"}


def test_nul_in_a_file_name_is_422_naming_file(world):
    app = world.new_application(group=world.make_group(world.applicant, name="Kelompok Nama Berkas"))
    body, headers = multipart(("kind", None, b"proposal"), ("file", "prop\x00osal.pdf", pdf()))
    r = world.client.post(
        f"/api/v1/applications/{app['id']}/attachments", content=body, headers={**world.applicant["headers"], **headers}
    )
    assert fields(problem(r, 422)) == ["file"]
    body, headers = multipart(("kind", None, b"propo\x00sal"), ("file", "proposal.pdf", pdf()))
    r = world.client.post(
        f"/api/v1/applications/{app['id']}/attachments", content=body, headers={**world.applicant["headers"], **headers}
    )
    assert fields(problem(r, 422)) == ["kind"]
    assert world.app(app["id"])["attachments"] == []


def test_two_file_fields_are_422_naming_file(world):
    app = world.new_application(group=world.make_group(world.applicant, name="Kelompok Dua Berkas"))
    r = world.client.post(
        f"/api/v1/applications/{app['id']}/attachments",
        headers=world.applicant["headers"],
        files=[("file", ("a.pdf", pdf(), "application/pdf")), ("file", ("b.pdf", pdf(), "application/pdf"))],
        data={"kind": "proposal"},
    )
    assert fields(problem(r, (400, 422))) == ["file"]


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deep_json_is_400_on_every_body(world, depth):
    deep = b"[" * depth + b"]" * depth
    for path, headers in (("/api/v1/auth/login", {}), ("/api/v1/groups", world.applicant["headers"])):
        r = world.client.post(path, content=deep, headers={**headers, "content-type": "application/json"})
        assert fields(problem(r, 400)) == ["body"]
    nested = b'{"email": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b', "password": "x"}'
    r = world.client.post("/api/v1/auth/login", content=nested, headers={"content-type": "application/json"})
    problem(r, 400)


def test_problems_speak_the_callers_language(world):
    r = world.client.get(
        "/api/v1/applications", params={"q": "\x00"}, headers={**world.admin["headers"], "accept-language": "id"}
    )
    body = problem(r, 422)
    assert body["title"] == "Isian tidak valid", body
    assert body["errors"][0]["message"] != "Control characters (such as NUL) are not allowed here.", body
    r = world.client.get(
        "/api/v1/applications", params={"q": "\x00"}, headers={**world.admin["headers"], "accept-language": "en"}
    )
    assert problem(r, 422)["title"] == "Invalid input"


def test_unicode_digits_are_not_digits_in_nik_account_and_query_ids(world):
    arabic = "١٣٧١٠١٥٠٠٥٩٠٠٠١"  # sixteen Arabic-Indic digits
    body = {
        "name": "Kelompok Angka",
        "region": "13.71",
        "address": "Jl. 1",
        "products": ["masker"],
        "bank_account": {"bank": "BRI", "number": "٠٠٢١٠١٠٠٠١٢٣٥٦٧", "holder": "Kelompok Angka"},
        "members": [{"nik": arabic, "name": "A", "role": "ketua", "gender": "L", "phone": "081100000009"}],
    }
    found = fields(problem(world.post("/api/v1/groups", world.applicant, body), 422))
    assert "bank_account.number" in found and "members[0].nik" in found
    for value in ("99999999999", "²", "٣"):
        r = world.client.get(
            "/applications/new", params={"group_id": value}, headers={**world.applicant["headers"], "accept": "*/*"}
        )
        assert r.status_code == 422 and "group_id" in r.text, r.text[:300]


def test_ids_and_numbers_in_json_beyond_their_columns_are_422(world, draft):
    from tkm.testing.builders import budget, plan

    body = {"programme": world.programme["code"], "group_id": 2**31, "business_plan": plan(), "budget": budget()}
    assert fields(problem(world.post("/api/v1/applications", world.applicant, body), 422)) == ["group_id"]
    body = {**body, "group_id": world.group["id"], "budget": [{**budget()[0], "quantity": 2**64}]}
    assert fields(problem(world.post("/api/v1/applications", world.applicant, body), 422)) == ["budget[0].quantity"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/groups", {"name": 5, "region": ["13"], "members": "x"}),
        ("/api/v1/groups", [1, 2]),
        ("/api/v1/auth/login", {"email": None, "password": 1.5}),
        ("/api/v1/programmes", {"code": True, "budget_ceiling": "lots", "regions": {}}),
    ],
)
def test_type_errors_speak_of_values_not_python_types(world, path, body):
    r = world.post(path, world.admin if "programmes" in path else world.applicant, body)
    found = problem(r, (400, 422))
    assert found["errors"], found


def test_query_type_errors_name_the_parameter_without_python_types(world):
    body = problem(world.get("/api/v1/applications", world.admin, params={"page": "dua"}), (400, 422))
    assert fields(body) == ["page"], body


def test_nul_inside_a_bank_statement_is_422_naming_file(world):
    csv_text = b"reference,amount\r\nTKM\x00-1,1000\r\n"
    r = world.client.post(
        "/api/v1/bank-statements",
        headers=world.finance["headers"],
        files={"file": ("mutasi.csv", csv_text, "text/csv")},
    )
    assert fields(problem(r, 422)) == ["file"]


def test_a_huge_json_body_is_413_before_decoding(world):
    huge = b'{"name": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    r = world.client.post(
        "/api/v1/groups", content=huge, headers={**world.applicant["headers"], "content-type": "application/json"}
    )
    assert fields(problem(r, 413)) == ["body"]


def test_json_depth_is_counted_in_one_pass():
    from tkm.core.inputs import json_depth

    assert json_depth(b'{"a": "[[[[\\\\", "b": [[1]]}') == 3  # brackets in strings and escapes do not count
    assert json_depth(b'["\\"]", [[2]]]') == 3
    # An unclosed string full of escaped quotes made a backtracking scan quadratic (40 KB took seconds).
    assert json_depth(b'"' + b'\\"' * 400_000) == 0


PAGES = [
    "/applications",
    "/approvals",
    "/dashboard",
    "/finance",
    "/groups",
    "/reports",
    "/review",
    "/programme-reports",
]
QUERIES = [
    {"q": "²"},
    {"q": "٣"},
    {"page": "99999999999999999999"},
    {"page": "²"},
    {"per_page": "-1"},
    {"status": ","},
    {"region": "13\u0000"},
    {"programme": "x" * 500},
    {"parent": "٣٣"},
]


@pytest.mark.parametrize("page", PAGES)
def test_pages_answer_bad_queries_without_a_500(world, page):
    for user in (world.admin, world.reviewer, world.finance, world.applicant):
        for query in QUERIES:
            r = world.client.get(page, params=query, headers={**user["headers"], "accept": "text/html"})
            assert r.status_code < 500, (page, query, user["role"], r.text[:300])
            assert not LEAKS.search(r.text if r.status_code >= 400 else ""), (page, query, r.text[:300])
