"""The letter fonts are checked before the app runs, and letters' links follow the port `tkm run` serves."""

from __future__ import annotations

import pytest

from tkm.core import syscheck


def test_syscheck_finds_the_letter_fonts_installed_here():
    assert syscheck.missing_fonts() == []


def test_syscheck_names_the_fonts_when_fontconfig_cannot_find_them(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert syscheck.missing_fonts() == list(syscheck.LETTER_FONTS)
    assert syscheck.main() == 1


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", "http://127.0.0.1:8123"), ("0.0.0.0", "http://127.0.0.1:8123")],  # noqa: S104
)
def test_letters_link_to_the_port_served_unless_a_base_url_is_set(monkeypatch, tmp_path, host, expected):
    from tkm import cli
    from tkm.core.settings import get_settings, reset_settings

    monkeypatch.delenv("TKM_BASE_URL", raising=False)
    monkeypatch.setenv("TKM_DATA_DIR", str(tmp_path))
    try:
        cli._base_url_from(host, 8123)
        assert get_settings().base_url == expected
        monkeypatch.setenv("TKM_BASE_URL", "https://tkm.sumbarprov.go.id")
        reset_settings()
        cli._base_url_from(host, 8123)
        assert get_settings().base_url == "https://tkm.sumbarprov.go.id"
    finally:
        reset_settings()


def test_full_address_does_not_repeat_a_place():
    from tkm.documents.renderer import full_address

    assert full_address({"address": "Jl. Sudirman 1, Padang", "region_path": "Kota Padang, Sumatera Barat"}) == (
        "Jl. Sudirman 1, Padang, Sumatera Barat"
    )
    assert full_address({"address": "Jl. Pasar 3, Kota Padang", "region_path": "Kota Padang, Sumatera Barat"}) == (
        "Jl. Pasar 3, Kota Padang, Sumatera Barat"
    )
    assert full_address({"address": "", "region_path": "Kota Padang, Sumatera Barat"}) == "Kota Padang, Sumatera Barat"
