"""Demo users for every role, created once with random passwords kept in TKM_DATA_DIR/demo-logins.txt."""

from __future__ import annotations

import asyncio
import secrets

from tkm.auth.roles import Role
from tkm.core.settings import get_settings

#: role, e-mail, name, regions (West Sumatra: the BLK Padang story; Central Java: a UPTD BLK).
DEMO_USERS = [
    (Role.admin, "admin@tkm.test", "Admin TKM", []),
    (Role.applicant, "ketua@tkm.test", "Siti Rahmawati", []),
    (Role.reviewer, "verifikator@tkm.test", "Budi Santoso", ["13", "33"]),
    (Role.approver, "ppk@tkm.test", "Hendra Putra", ["13", "33"]),
    (Role.finance, "keuangan@tkm.test", "Rina Marlina", ["13", "33"]),
    (Role.finance, "bendahara@tkm.test", "Yusuf Hakim", ["13", "33"]),
    (Role.auditor, "auditor@tkm.test", "Dewi Lestari", []),
]


def _password() -> str:
    return "tkm-" + secrets.token_urlsafe(9)


async def _ensure() -> list[tuple[str, str, str]]:
    from tkm.auth import services
    from tkm.auth.tables import User
    from tkm.core import db

    db.configure()
    path = get_settings().data_dir / "demo-logins.txt"
    known: dict[str, tuple[str, str, str]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3:
                known[parts[1]] = (parts[0], parts[1], parts[2])
    logins = []
    for number, (role, email, name, region_list) in enumerate(DEMO_USERS):
        if await User.exists().where(User.email == email):
            if email in known:
                logins.append(known[email])
            continue
        password = _password()
        await services.create_user(None, email, name, password, role, region_list, f"0812000000{number:02d}")
        logins.append((str(role), email, password))
    if logins:
        path.write_text("".join(f"{r} {e} {p}\n" for r, e, p in logins))
        path.chmod(0o600)
    return logins


def ensure_demo_logins() -> list[tuple[str, str, str]]:
    return asyncio.run(_ensure())
