import pytest

from tkm.auth.passwords import hash_password, needs_rehash, verify_password, weakness


@pytest.mark.parametrize(
    "password",
    ["", "short", "1234567", "password", "password123", "qwertyuiop", "bismillah", "aaaaaaaaaaaa", "ababababab"],
)
def test_weak_passwords_are_refused(password):
    assert weakness(password) is not None


def test_password_with_own_email_is_refused():
    assert weakness("siti.rahma2020", email="siti.rahma@contoh.id") is not None


@pytest.mark.parametrize("password", ["Kata-Sandi-Uji-2020", "masker-padang-2200", "correct horse battery"])
def test_reasonable_passwords_pass(password):
    assert weakness(password) is None


def test_argon2id_with_at_least_the_owasp_minimum():
    hashed = hash_password("Kata-Sandi-Uji-2020")
    assert hashed.startswith("$argon2id$")
    params = dict(p.split("=") for p in hashed.split("$")[3].split(","))
    assert int(params["m"]) >= 19456 and int(params["t"]) >= 2 and int(params["p"]) >= 1
    assert verify_password(hashed, "Kata-Sandi-Uji-2020")
    assert not verify_password(hashed, "kata-sandi-uji-2020")
    assert not verify_password(None, "anything")
    assert not needs_rehash(hashed)
    assert needs_rehash("$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
