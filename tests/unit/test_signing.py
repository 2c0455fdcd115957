"""Signing certificates: the development one is made once (also by racing processes); a production start is refused
without a certificate or with an expired one, in one line."""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tkm.core.settings import SettingsError, load_settings
from tkm.documents import signing
from tkm.testing.certificates import expired_p12, make_p12
from tkm.testing.processes import run_tkm

OFFICE = signing.SigningOffice("DISNAKER-13", "Dinas Tenaga Kerja dan Transmigrasi Provinsi Sumatera Barat")
SECRET = secrets.token_urlsafe(36)


def settings_for(data_dir: Path, **extra: str):
    return load_settings({"TKM_DATA_DIR": str(data_dir), "TKM_SECRET_KEY": SECRET, **extra})


def production(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "TKM_DATA_DIR": str(data_dir),
        "TKM_SECRET_KEY": SECRET,
        "TKM_ENV": "production",
        "TKM_LEDGER_KEY": secrets.token_urlsafe(36),  # production also needs the ledger's key
        "TKM_DATABASE_URL": f"sqlite:///{data_dir / 'tkm.sqlite3'}",
        **extra,
    }


def _ensure(data_dir: str) -> str:
    settings = settings_for(Path(data_dir))
    path = signing.ensure_dev_certificate(settings, OFFICE)
    return signing.fingerprint(signing.open_p12(path.read_bytes(), signing._dev_password(settings)).cert)


def test_the_development_certificate_is_made_once(tmp_path):
    first = _ensure(str(tmp_path))
    path = signing.dev_certificate_path(settings_for(tmp_path), OFFICE.code)
    made = path.stat().st_mtime_ns
    assert _ensure(str(tmp_path)) == first and path.stat().st_mtime_ns == made
    cert = signing.open_p12(path.read_bytes(), signing._dev_password(settings_for(tmp_path))).cert
    assert signing._common_name(cert) == OFFICE.name
    assert signing.validity_problem(cert) is None


RACER = """
import sys
from pathlib import Path
from tkm.core.settings import load_settings
from tkm.documents import signing
settings = load_settings({"TKM_DATA_DIR": sys.argv[1], "TKM_SECRET_KEY": sys.argv[2]})
path = signing.ensure_dev_certificate(settings, signing.SigningOffice(sys.argv[3], sys.argv[4]))
print(signing.fingerprint(signing.open_p12(path.read_bytes(), signing._dev_password(settings)).cert))
"""


def test_processes_racing_on_a_new_data_dir_share_one_development_certificate(tmp_path):
    args = [sys.executable, "-c", RACER, str(tmp_path), SECRET, OFFICE.code, OFFICE.name]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    # The last line is the fingerprint (log lines may come before it).
    fingerprints = {proc.communicate(timeout=120)[0].strip().splitlines()[-1] for proc in procs}
    assert all(proc.returncode == 0 for proc in procs)
    assert len(fingerprints) == 1 and _ensure(str(tmp_path)) in fingerprints
    folder = tmp_path / "signing" / "dev"
    assert sorted(p.name for p in folder.iterdir()) == [f"{OFFICE.code}.p12"]  # no draft left behind


def test_development_signs_with_the_development_certificate_and_says_so(tmp_path):
    settings = settings_for(tmp_path)
    signer = signing.LocalSigner(settings)
    assert signer.development(OFFICE) is True
    signing.startup(settings)  # development: nothing is required


def test_production_without_a_certificate_is_refused(tmp_path):
    settings = load_settings(production(tmp_path))
    with pytest.raises(SettingsError, match="TKM_SIGNING_P12 is not set"):
        signing.startup(settings)


def test_production_with_an_expired_certificate_is_refused(tmp_path):
    p12 = tmp_path / "office.p12"
    p12.write_bytes(expired_p12("Kepala Dinas", "rahasia"))
    settings = load_settings(production(tmp_path, TKM_SIGNING_P12=str(p12), TKM_SIGNING_PASSWORD="rahasia"))
    with pytest.raises(SettingsError, match="expired on"):
        signing.startup(settings)


def test_production_with_a_wrong_password_is_refused(tmp_path):
    p12 = tmp_path / "office.p12"
    p12.write_bytes(make_p12("Kepala Dinas", "rahasia"))
    settings = load_settings(production(tmp_path, TKM_SIGNING_P12=str(p12), TKM_SIGNING_PASSWORD="salah"))
    with pytest.raises(SettingsError, match="password"):
        signing.startup(settings)


def test_production_with_a_valid_certificate_starts_and_signs_with_it(tmp_path):
    p12 = tmp_path / "office.p12"
    p12.write_bytes(make_p12("Kepala Dinas Uji", "rahasia"))
    settings = load_settings(production(tmp_path, TKM_SIGNING_P12=str(p12), TKM_SIGNING_PASSWORD="rahasia"))
    signing.startup(settings)
    signer = signing.LocalSigner(settings)
    assert signer.development(OFFICE) is False
    info = signing.certificate_info(settings, OFFICE)
    assert info is not None and info["subject"] == "Kepala Dinas Uji" and info["own"] is False


def test_an_office_certificate_that_expired_since_it_was_loaded_stops_production(tmp_path):
    settings = load_settings(production(tmp_path))
    signing.store_office_certificate(settings, OFFICE.code, make_p12("Kepala Dinas", "pw"), "pw")
    signing.startup(settings)  # its own certificate is enough
    # Replaced on disk by an expired one (as time would do): refused.
    record = signing.office_record(settings, OFFICE.code)
    assert record is not None
    (signing._office_dir(settings, OFFICE.code) / record["file"]).write_bytes(expired_p12("Kepala Dinas", "pw"))
    with pytest.raises(SettingsError, match=f"office {OFFICE.code}.*expired on"):
        signing.startup(settings)


def test_a_missing_p12_file_is_a_settings_error(tmp_path):
    with pytest.raises(SettingsError, match="TKM_SIGNING_P12"):
        load_settings(production(tmp_path, TKM_SIGNING_P12=str(tmp_path / "nope.p12")))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("case", ["none", "expired"])
def test_tkm_serve_refuses_a_production_start_in_one_line(tmp_path, case):
    env = production(tmp_path)
    if case == "expired":
        p12 = tmp_path / "office.p12"
        p12.write_bytes(expired_p12("Kepala Dinas", "rahasia"))
        env |= {"TKM_SIGNING_P12": str(p12), "TKM_SIGNING_PASSWORD": "rahasia"}
    result = run_tkm(["serve", "--port", str(_free_port())], env, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tkm: ") and ("TKM_SIGNING_P12" in lines[0])
    assert ("expired on" in lines[0]) == (case == "expired")


def test_tkm_office_certificate_loads_one_before_a_production_start(tmp_path):
    env = production(tmp_path)
    p12 = tmp_path / "kantor.p12"
    p12.write_bytes(make_p12("Kepala Dinas Uji", "rahasia"))
    assert run_tkm(["migrate"], env, timeout=120).returncode == 0
    wrong = run_tkm(["office-certificate", "PUSAT", str(p12)], env, input_text="salah\n", timeout=120)
    assert wrong.returncode == 1 and wrong.stderr.startswith("tkm: password: ")
    assert not (tmp_path / "signing" / "offices").exists()
    loaded = run_tkm(["office-certificate", "PUSAT", str(p12)], env, input_text="rahasia\n", timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert "Kepala Dinas Uji" in loaded.stdout
    signing.startup(load_settings(env))  # production may start now


def test_another_signer_plugs_in_through_tkm_signer(tmp_path):
    import asyncio

    from weasyprint import HTML

    settings = settings_for(tmp_path, TKM_SIGNER="tkm.testing.certificates:make_counting_signer")
    signer = signing.load_signer(settings)
    assert type(signer).__name__ == "CountingSigner" and isinstance(signer, signing.Signer)
    signing.startup(settings)
    pdf = HTML(string="<html lang='id'><title>x</title><p>Surat</p></html>").write_pdf(pdf_variant="pdf/a-3u")
    signed = signer.sign(pdf, OFFICE)
    assert signer.signed == 1  # type: ignore[attr-defined]
    checked = asyncio.run(signing.check_signature(signed, OFFICE, signer=signer))
    assert checked.valid and checked.signer == OFFICE.name


@pytest.mark.parametrize("ref", ["os:getcwd", "tkm.nowhere:make"])
def test_a_signer_that_cannot_be_made_is_one_line(tmp_path, ref):
    with pytest.raises(SettingsError, match="TKM_SIGNER"):
        signing.load_signer(settings_for(tmp_path, TKM_SIGNER=ref))
