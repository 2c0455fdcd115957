"""Reading HTML forms: amounts as people type them, dynamic rows, error paths to field ids."""

import pytest

from tkm.core.errors import Conflict, FieldError, ValidationProblem
from tkm.core.i18n import reset_language, set_language
from tkm.web import forms, labels


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1500000", 1_500_000),
        ("1.500.000", 1_500_000),
        ("Rp1.500.000", 1_500_000),
        ("rp 1 500 000", 1_500_000),
        (" 80000 ", 80_000),
        ("0", 0),
        ("", None),
        ("1,5", None),
        ("-5", None),
        ("dua", None),
        ("١٢", None),  # Arabic-Indic digits are digits to Python, not to the service
        ("9" * 16, None),
    ],
)
def test_parse_amount(typed, amount):
    assert forms.parse_amount(typed) == amount


def test_int_or_text_passes_on_what_is_not_a_number():
    assert forms.int_or_text("1.000") == 1000
    assert forms.int_or_text("seribu") == "seribu"


def test_rows_are_read_in_index_order_gaps_closed_and_blank_rows_dropped():
    form = {
        "members[5].nik": "2",
        "members[5].name": "Dua",
        "members[0].nik": "1",
        "members[0].name": "Satu",
        "members[0].role": "ketua",
        "members[3].role": "anggota",  # a row left empty: only its select has a value
        "members[3].nik": " ",
        "budget[0].description": "not a member",
        "members[1].unknown": "ignored",
        "members[x].nik": "ignored",
    }
    rows = forms.rows(form, "members", ("nik", "name", "role"), text_fields=("nik", "name"))
    assert rows == [{"nik": "1", "name": "Satu", "role": "ketua"}, {"nik": "2", "name": "Dua", "role": ""}]


def test_nested_list_prefixes():
    form = {"business_plan.products[1].product": "sabun", "business_plan.products[0].product": "masker"}
    rows = forms.rows(form, "business_plan.products", ("product", "unit"))
    assert [r["product"] for r in rows] == ["masker", "sabun"]


def test_field_ids_are_valid_html_ids():
    assert forms.field_id("members[2].nik") == "f-members-2-nik"
    assert forms.field_id("bank_account.number") == "f-bank_account-number"
    assert forms.field_id("budget.capital") == "f-budget-capital"


def test_form_errors_from_problems():
    errors = forms.FormErrors.from_problem(
        ValidationProblem([FieldError("name", "Required."), FieldError("name", "Too long."), FieldError("x", "Bad.")])
    )
    assert errors.get("name") == "Required. Too long." and errors.message == ""
    conflict = forms.FormErrors.from_problem(Conflict("Already applied.", errors=[FieldError("group_id", "Again.")]))
    assert conflict.message == "Already applied." and conflict.get("group_id") == "Again."
    assert bool(forms.FormErrors()) is False


def test_convert_turns_a_tampered_choice_into_a_field_error():
    from tkm.groups.schemas import MemberIn

    with pytest.raises(ValidationProblem) as exc:
        forms.convert({"nik": "1", "name": "x", "role": "raja", "gender": "L"}, MemberIn)
    assert exc.value.errors[0].field == "role"


def test_field_context_names_the_row():
    token = set_language("id")
    try:
        assert labels.field_context("members[2].nik") == "Anggota 3: "
        assert labels.field_context("budget[0].unit_cost") == "Baris anggaran 1: "
        assert labels.field_context("business_plan.products[1].unit") == "Produk 2: "
        assert labels.field_context("name") == ""
        assert labels.label("capital", "component") == "Modal kerja"
        assert labels.label("unknown_code", "component") == "unknown_code"
    finally:
        reset_language(token)
