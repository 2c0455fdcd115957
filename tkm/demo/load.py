"""The demo data set beyond users: training centres, programmes, groups, applications, tranches, reports.

Everything goes through the same service functions the API handlers call (programmes, groups,
applications and their attachments, the workflow engine, disbursement, reports), so every row has
its history, audit event, funds-trail entries and queued letters, and every rule applies.

One thing is moved by hand, with ``tkm/testing/time_travel.py`` as for tests: once an application
is approved (now), its ``approved_at`` is set to a day some months back, so that the groups can
file the monthly reports the rules allow for those months (from the month of approval up to this
month) and finance can date transfers after the approval. History events, audit events and the
approval decree keep the moment they were really written.

The set is loaded once, in one transaction: a second run finds the demo programme and changes nothing,
and a run that fails leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import itertools
import secrets
from typing import Any

import msgspec

from tkm.auth.roles import CurrentUser
from tkm.programmes.services import JAKARTA, today
from tkm.testing import builders, time_travel
from tkm.testing.samples import PDF_BYTES

PEMULA = "TKM-PEMULA-DEMO"
LANJUTAN = "TKM-LANJUTAN-DEMO"

CENTRES = [
    {
        "code": "BLK-PADANG",
        "name": "BLK Padang",
        "kind": "UPTP",
        "region": "13.71",
        "vocations": ["menjahit", "pengolahan hasil pertanian", "teknik listrik", "las"],
        "it_based": False,
    },
    {
        "code": "UPTD-BLK-BANYUMAS",
        "name": "UPTD BLK Kabupaten Banyumas",
        "kind": "UPTD",
        "region": "33.02",
        "vocations": ["menjahit", "tata boga", "teknik otomotif"],
        "it_based": False,
    },
    {
        "code": "BLKK-NURUL-HUDA-AGAM",
        "name": "BLK Komunitas Pondok Pesantren Nurul Huda Agam",
        "kind": "KOMUNITAS",
        "region": "13.06",
        "vocations": ["menjahit", "pembuatan sabun"],
        "it_based": False,
    },
]

#: Products as groups report them: unit, units made a month, unit price (rupiah).
PRODUCTS = {
    "masker": ("pcs", 4000, 5_000),
    "hand_sanitizer": ("liter", 300, 35_000),
    "sabun": ("batang", 1500, 8_000),
}
RUBRIC = builders.rubric(group_capacity=4, budget_fit=3)

#: (group name, region (regency), NIK district, training centre, owner, pemula target state, months since approval)
GROUPS: list[tuple[str, str, str, str | None, str, str, int]] = [
    ("Kelompok Jahit Bundo Kanduang", "13.71", "137101", "BLK-PADANG", "ketua@tkm.test", "active", 3),
    ("Kelompok Usaha Masker Saiyo", "13.71", "137103", "BLK-PADANG", "", "completed", 2),
    ("Kelompok Sabun Harum Ranah Minang", "13.06", "130601", "BLKK-NURUL-HUDA-AGAM", "", "completed", 2),
    ("Kelompok Sehat Bersama Banyumas", "33.02", "330201", "UPTD-BLK-BANYUMAS", "", "terminated", 2),
    ("Kelompok Jahit Sekar Arum", "33.02", "330203", "UPTD-BLK-BANYUMAS", "", "suspended", 1),
    ("Kelompok Mandiri Lubuk Begalung", "13.71", "137102", "BLK-PADANG", "", "approved", 0),
    ("Kelompok Tani Sabun Agam", "13.06", "130602", "BLKK-NURUL-HUDA-AGAM", "", "recommended", 0),
    ("Kelompok Masker Purwokerto", "33.02", "330202", None, "", "in_review", 0),
    ("Kelompok Karya Nagari", "13.71", "137104", "BLK-PADANG", "", "revision_requested", 0),
    ("Kelompok Bina Usaha Ajibarang", "33.02", "330204", "UPTD-BLK-BANYUMAS", "", "submitted", 0),
    ("Kelompok Sinar Maninjau", "13.06", "130603", None, "", "not_recommended", 0),
    ("Kelompok Harapan Koto Tangah", "13.71", "137105", "BLK-PADANG", "", "rejected", 0),
    ("Kelompok Berkah Cilongok", "33.02", "330205", None, "", "withdrawn", 0),
    ("Kelompok Jahit Air Tawar", "13.71", "137106", "BLK-PADANG", "ketua@tkm.test", "draft", 0),
]
#: Lanjutan applications of groups that completed a Pemula grant: group index → target state.
LANJUTAN_TARGETS = {1: "field_verified", 2: "submitted"}

#: Which part of the standard path (tkm.testing.builders.PATHS) the demo walks by actions: a granted group's
#: grant is run by run_grant() from the approval on, and a withdrawn one was submitted first.
GRANTED = ("active", "suspended", "completed", "terminated")
#: What a group buys with each component's grant money (the expense category of that spending).
GRANT_CATEGORY = {"capital": "equipment", "wages": "wages", "product_development": "other", "marketing": "marketing"}


def demo_path(target: str) -> list[str]:
    if target in GRANTED:
        path = builders.PATHS[target]
        return path[: path.index("approve") + 1]
    if target == "withdrawn":
        return ["submit", "withdraw"]
    return builders.PATHS[target]


def legal_bases(year: int) -> list[str]:
    """The "Mengingat" of the demo offices' decrees."""
    return [
        "Undang-Undang Nomor 13 Tahun 2003 tentang Ketenagakerjaan (Lembaran Negara Republik Indonesia Tahun 2003 "
        "Nomor 39, Tambahan Lembaran Negara Republik Indonesia Nomor 4279) sebagaimana telah diubah terakhir dengan "
        "Undang-Undang Nomor 6 Tahun 2023 tentang Penetapan Peraturan Pemerintah Pengganti Undang-Undang Nomor 2 "
        "Tahun 2022 tentang Cipta Kerja menjadi Undang-Undang",
        "Undang-Undang Nomor 17 Tahun 2003 tentang Keuangan Negara",
        "Undang-Undang Nomor 1 Tahun 2004 tentang Perbendaharaan Negara",
        "Peraturan Menteri Keuangan Nomor 168/PMK.05/2015 tentang Mekanisme Pelaksanaan Anggaran Bantuan Pemerintah "
        "pada Kementerian Negara/Lembaga sebagaimana telah diubah terakhir dengan Peraturan Menteri Keuangan Nomor "
        "132/PMK.05/2021",
        "Keputusan Direktur Jenderal Pembinaan Penempatan Tenaga Kerja dan Perluasan Kesempatan Kerja Kementerian "
        f"Ketenagakerjaan Nomor 2/{year} tentang Petunjuk Teknis Perluasan Kesempatan Kerja melalui Pembentukan "
        f"Tenaga Kerja Mandiri Tahun Anggaran {year}",
    ]


def _signatories(head: dict[str, str], ppk: dict[str, str], ppspm: dict[str, str]) -> dict[str, dict[str, str]]:
    """The Kepala Dinas signs by default; the PPK (the demo's approver) signs what he decides and hands over, the
    PPSPM the payment orders."""
    return {
        "default": head,
        "approval_decree": ppk,
        "rejection_letter": ppk,
        "termination_letter": ppk,
        "handover_record": ppk,
        # The PPK also makes the agreement, asks for each payment (SPP), validates the group's receipts and
        # acknowledges its accountability report; decisions on several groups or on an amendment are his too.
        "cooperation_agreement": ppk,
        "payment_request": ppk,
        "payment_receipt": ppk,
        "accountability_report": ppk,
        "amendment_decree": ppk,
        "collective_decree": ppk,
        "decree_extract": ppk,
        "payment_order": ppspm,
    }


#: The PPK of both provinces is the demo's approver (ppk@tkm.test, "Hendra Putra"): who decides signs.
PPK = {
    "name": "Hendra Putra, S.E., M.M.",
    "nip": "197503102000031002",
    "rank": "Pembina (IV/a)",
    "title": "Pejabat Pembuat Komitmen",
}

OFFICES: list[dict[str, Any]] = [
    {
        "code": "SUMBAR",
        "name": "Dinas Tenaga Kerja dan Transmigrasi Provinsi Sumatera Barat",
        "region": "13",
        "letterhead": ["PEMERINTAH PROVINSI SUMATERA BARAT", "DINAS TENAGA KERJA DAN TRANSMIGRASI"],
        "address": "Jalan Jenderal Sudirman Nomor 1, Padang 25121",
        "contact": {
            "phone": "(0751) 7055221",
            "email": "disnakertrans@sumbarprov.go.id",
            "website": "disnakertrans.sumbarprov.go.id",
        },
        "city": "Padang",
        "signatory_name": "Hendra Saputra, S.E., M.M.",
        "signatory_title": "Kepala Dinas Tenaga Kerja dan Transmigrasi Provinsi Sumatera Barat",
        "signatory_nip": "196904121995031002",
        "signatories": _signatories(
            {
                "name": "Hendra Saputra, S.E., M.M.",
                "nip": "196904121995031002",
                "rank": "Pembina Utama Muda (IV/c)",
                "title": "Kepala Dinas Tenaga Kerja dan Transmigrasi Provinsi Sumatera Barat",
            },
            PPK,
            {
                "name": "Yusuf Hakim, S.E., Ak.",
                "nip": "198001152005011004",
                "rank": "Penata Tingkat I (III/d)",
                "title": "Pejabat Penandatangan Surat Perintah Membayar",
            },
        ),
    },
    {
        "code": "JATENG",
        "name": "Dinas Tenaga Kerja dan Transmigrasi Provinsi Jawa Tengah",
        "region": "33",
        "letterhead": ["PEMERINTAH PROVINSI JAWA TENGAH", "DINAS TENAGA KERJA DAN TRANSMIGRASI"],
        "address": "Jalan Pahlawan Nomor 16, Semarang 50241",
        "contact": {
            "phone": "(024) 8311713",
            "email": "disnakertrans@jatengprov.go.id",
            "website": "disnakertrans.jatengprov.go.id",
        },
        "city": "Semarang",
        "signatory_name": "Sri Wahyuni, S.H., M.Si.",
        "signatory_title": "Kepala Dinas Tenaga Kerja dan Transmigrasi Provinsi Jawa Tengah",
        "signatory_nip": "197002281996032001",
        "signatories": _signatories(
            {
                "name": "Sri Wahyuni, S.H., M.Si.",
                "nip": "197002281996032001",
                "rank": "Pembina Utama Muda (IV/c)",
                "title": "Kepala Dinas Tenaga Kerja dan Transmigrasi Provinsi Jawa Tengah",
            },
            PPK,
            {
                "name": "Agus Prasetyo, S.E.",
                "nip": "198207092006041003",
                "rank": "Penata (III/c)",
                "title": "Pejabat Penandatangan Surat Perintah Membayar",
            },
        ),
    },
]

#: The default office (Kemnaker) signs the letters of regions no province office covers.
DEFAULT_OFFICE = {
    "contact": {"phone": "(021) 5255733", "email": "humas@kemnaker.go.id", "website": "kemnaker.go.id"},
    "signatories": _signatories(
        {
            "name": "Drs. Rahmat Hidayat, M.Si.",
            "nip": "196805121994031003",
            "rank": "Pembina Utama Muda (IV/c)",
            "title": "Direktur Bina Pemagangan dan Perluasan Kesempatan Kerja",
        },
        PPK,
        {
            "name": "Rina Marlina, S.E.",
            "nip": "198305202008012006",
            "rank": "Penata (III/c)",
            "title": "Pejabat Penandatangan Surat Perintah Membayar",
        },
    ),
}


def office_logo(initials: str, colour: str) -> bytes:
    """A plain emblem for a demo office's kop surat: a shield with a star and the office's initials."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 110" width="100" height="110">'
        f'<path d="M50 3 L95 18 L90 70 Q80 95 50 107 Q20 95 10 70 L5 18 Z" fill="{colour}" stroke="#000" '
        'stroke-width="2"/>'
        '<path d="M50 16 L55 31 L71 31 L58 40 L63 55 L50 46 L37 55 L42 40 L29 31 L45 31 Z" fill="#f2c200"/>'
        '<rect x="20" y="62" width="60" height="20" fill="#fff" stroke="#000" stroke-width="1"/>'
        f'<text x="50" y="77" font-family="DejaVu Sans" font-size="13" font-weight="bold" text-anchor="middle">'
        f"{initials}</text></svg>"
    ).encode()


LOGOS = {"SUMBAR": ("SUMBAR", "#1f6f3f"), "JATENG": ("JATENG", "#8b1a1a"), "PUSAT": ("RI", "#1f4e79")}



#: The names a group gives its scanned files (letters list them as uploaded).
DEMO_FILE_NAMES = {
    "proposal": "Proposal Usaha.pdf",
    "ktp": "KTP Anggota.pdf",
    "sk_kelompok": "SK Pembentukan Kelompok.pdf",
    "photo": "Foto Tempat Usaha.pdf",
}

class Demo:
    """The people of the demo and the steps they take, each one a service call."""

    def __init__(self, users: dict[str, CurrentUser]) -> None:
        self.admin = users["admin@tkm.test"]
        self.reviewer = users["verifikator@tkm.test"]
        self.approver = users["ppk@tkm.test"]
        self.finance = users["keuangan@tkm.test"]
        self.finance2 = users["bendahara@tkm.test"]
        self.users = users
        self.serial = itertools.count(101)
        self.payments = itertools.count(1)

    # --- set-up ---------------------------------------------------------------------------------------------------

    async def centres(self) -> None:
        from tkm.programmes import services
        from tkm.programmes.schemas import TrainingCentreIn

        for centre in CENTRES:
            await services.create_centre(self.admin, TrainingCentreIn(**centre))  # type: ignore[arg-type]

    async def offices(self) -> None:
        """The provincial manpower offices that issue the demo's letters (the default office stays for the rest)."""
        from tkm.documents import offices
        from tkm.documents.schemas import OfficeIn, OfficePatch

        year = today().year
        for office in OFFICES:
            body = {**office, "legal_bases": legal_bases(year)}
            await offices.create_office(self.admin, msgspec.convert(body, OfficeIn))
        default = next(o for o in await offices.list_offices() if o["is_default"])
        patch = {**DEFAULT_OFFICE, "legal_bases": legal_bases(year)}
        await offices.update_office(self.admin, default["code"], msgspec.convert(patch, OfficePatch))
        for code in [*(o["code"] for o in OFFICES), default["code"]]:
            initials, colour = LOGOS.get(code, (code[:6], "#1f4e79"))
            await offices.set_logo(self.admin, code, "logo.svg", office_logo(initials, colour))

    async def programmes(self) -> None:
        from tkm.programmes import services
        from tkm.programmes.schemas import ProgrammeIn

        year = today().year
        common: dict[str, Any] = {
            "fiscal_year": year,
            "budget_ceiling": 2_500_000_000,
            "regions": ["13", "33"],
            "opens_on": (today() - dt.timedelta(days=120)).isoformat(),
            "closes_on": (today() + dt.timedelta(days=90)).isoformat(),
        }
        pemula = builders.programme_body(
            code=PEMULA, name=f"TKM Pemula {year} Sumatera Barat dan Jawa Tengah", **common
        )
        lanjutan = builders.programme_body(
            code=LANJUTAN,
            name=f"TKM Lanjutan {year} Sumatera Barat dan Jawa Tengah",
            workflow="tkm-lanjutan",
            **{**common, "budget_ceiling": 1_000_000_000},
        )
        # What SPMs print: the budget account (MAK) and the DIPA the grants are paid from.
        for body, output in ((pemula, "EBA.001"), (lanjutan, "EBA.002")):
            body["account_code"] = f"026.05.WA.4284.{output}.052.A.526211"
            body["budget_reference"] = f"DIPA-026.05.1.690561/{year} tanggal 2 Desember {year - 1}"
        for body in (pemula, lanjutan):
            await services.create_programme(self.admin, msgspec.convert(body, ProgrammeIn))

    async def leader(self, owner: str, index: int, district: str) -> CurrentUser:
        """The group's ketua: the demo applicant for some groups, an applicant of their own for the rest."""
        from tkm.auth import services

        if owner:
            return self.users[owner]
        name = builders.person_name(index % 2 == 0, index, index)
        email = f"ketua{index + 1:02d}@kelompok.tkm.test"
        password = "tkm-" + secrets.token_urlsafe(12)  # nobody logs in as them in the demo
        return await services.create_user(self.admin, email, name, password, "applicant", [], f"0813{index:08d}")

    def members(self, index: int, district: str, leader: CurrentUser) -> list[dict[str, Any]]:
        out = []
        for i, role in enumerate(builders.member_roles(10)):
            female = (i + index) % 3 != 0  # sewing groups: mostly women
            born = dt.date(1970 + (i * 7 + index * 3) % 33, 1 + (i + index) % 12, 1 + (i * 5 + index) % 28)
            if role == "ketua":
                name = leader.name
                female = leader.name.split()[0] in builders.FEMALE_NAMES or leader.email == "ketua@tkm.test"
            else:
                name = builders.person_name(female, i * 3 + index, i + index * 2)
            nik = builders.nik(district, born, female, serial=next(self.serial))
            phone = f"0852{index:02d}{i:02d}{next(self.serial) % 10000:04d}"
            out.append(builders.member(nik, name, role, female, phone))
        return out

    async def group(self, index: int, spec: tuple[str, str, str, str | None, str, str, int]) -> dict[str, Any]:
        from tkm import regions
        from tkm.groups import services
        from tkm.groups.schemas import BankAccount, GroupIn, MemberIn

        name, region, district, centre, owner, _target, _months = spec
        leader = await self.leader(owner, index, district)
        data = GroupIn(
            name=name,
            region=region,
            address=f"Jl. Pasar Baru No. {index + 3}, {regions.name(region)}",
            training_centre=centre,
            products=["masker", "hand_sanitizer", "sabun"],
            bank_account=BankAccount(bank="BRI", number=f"00210100{index:03d}{4567 + index}", holder=name),
            members=[MemberIn(**m) for m in self.members(index, district, leader)],
        )
        return {"group": await services.create_group(leader, data), "leader": leader}

    # --- applications -----------------------------------------------------------------------------------------------

    async def application(self, leader: CurrentUser, group_id: int, programme: str, index: int) -> int:
        from tkm.applications import services
        from tkm.applications.schemas import ApplicationIn

        plan = builders.plan(
            summary="Produksi masker kain, hand sanitizer dan sabun batang untuk pasar sekitar dan puskesmas.",
            products=[
                {
                    "product": p,
                    "unit": unit,
                    "units_per_day": per_month // 25,
                    "unit_cost": price // 2,
                    "unit_price": price,
                }
                for p, (unit, per_month, price) in PRODUCTS.items()
            ],
            market="Puskesmas, apotek, sekolah, pasar tradisional dan penjualan daring.",
        )
        budget = builders.budget(
            capital=9_000_000 + index * 100_000,
            wages_days=60,
            daily_wage=75_000,
            descriptions={
                "capital": "Mesin jahit, bahan kain dan bahan baku sabun",
                "wages": "Upah penjahit dan peracik",
                "product_development": "Desain kemasan dan label halal",
                "marketing": "Promosi pasar lokal dan daring",
            },
        )
        body = {"programme": programme, "group_id": group_id, "business_plan": plan, "budget": budget}
        created = await services.create_application(leader, msgspec.convert(body, ApplicationIn))
        return int(created["id"])

    async def attach(self, leader: CurrentUser, application_id: int, kinds: tuple[str, ...]) -> None:
        from tkm.applications import attachments

        for kind in kinds:
            name = DEMO_FILE_NAMES.get(kind, "Dokumen.pdf")
            await attachments.upload(application_id, leader, kind, name, io.BytesIO(PDF_BYTES))

    async def step(self, leader: CurrentUser, application_id: int, action: str) -> None:
        from tkm.applications import services

        body: dict[str, Any] = {}
        actor = leader
        if action == "submit":
            await self.attach(leader, application_id, ("proposal", "ktp", "sk_kelompok", "photo"))
        elif action == "start_review":
            actor, body = self.reviewer, {"no_conflict_of_interest": True}
        elif action == "request_revision":
            actor, body = self.reviewer, {"notes": "Lengkapi foto tempat usaha dan rincian harga bahan baku."}
        elif action == "recommend":
            actor = self.reviewer
            app = await services.get_application(application_id, self.reviewer)
            body = {"scores": dict(RUBRIC), "recommended_budget": dict(app["budget_totals"]), "notes": "Layak."}
        elif action == "not_recommend":
            actor, body = self.reviewer, {"reasons": "Rencana pemasaran belum jelas dan anggota belum terlatih."}
        elif action == "verify_field":
            actor = self.reviewer
            body = {"visit_date": today().isoformat(), "findings": "Tempat usaha dan peralatan sesuai proposal."}
        elif action == "approve":
            actor, body = self.approver, {"notes": "Disetujui sesuai rekomendasi verifikator."}
        elif action == "reject":
            actor, body = self.approver, {"reasons": "Pagu anggaran wilayah ini sudah terpakai."}
        elif action == "withdraw":
            body = {"reason": "Sebagian anggota pindah kerja ke luar daerah."}
        elif action == "sign_agreement":
            await self.attach(leader, application_id, ("agreement",))
        elif action == "complete":
            actor, body = self.reviewer, {"notes": "Seluruh termin dibayar dan laporan akhir diterima."}
        elif action == "suspend":
            actor, body = self.approver, {"reasons": "Kegiatan usaha berhenti; pengurus tidak dapat dihubungi."}
        elif action == "terminate":
            actor = self.approver
            body = {"reasons": "Kelompok bubar setelah dua bulan; sisa bantuan yang belum disalurkan dikembalikan."}
        await services.act(application_id, action, actor, body, None)

    async def approve_collectively(self, application_ids: list[int]) -> None:
        """The approver decides a batch (the approvals page): one collective decree, an extract for each group."""
        from tkm.applications import approvals

        results = await approvals.decide(
            self.approver,
            {
                "applications": application_ids,
                "action": "approve",
                "notes": "Disetujui sesuai rekomendasi verifikator.",
            },
        )
        refused = [r for r in results if r["problem"] is not None]
        if refused:
            raise RuntimeError(f"demo: collective approval refused: {refused}")

    async def backdate_approval(self, application_id: int, months: int) -> dt.datetime:
        """The approval of ``months`` months ago, in Jakarta time (see the module docstring)."""
        moment = await time_travel.backdate_approval(application_id, months, day=min(today().day, 5))
        return moment.astimezone(JAKARTA)

    # --- money and reports ------------------------------------------------------------------------------------------

    async def pay_due(self, application_id: int, paid_on: dt.date) -> None:
        """Request (one officer), authorize (the other) and pay every tranche whose condition is met."""
        from tkm.core.errors import Conflict
        from tkm.disbursement import services

        for tranche in await services.list_for_application(application_id, self.finance):
            if tranche["status"] != "planned":
                continue
            try:
                await services.act(tranche["id"], "request", self.finance, {}, None)
            except Conflict:
                continue  # its condition (accepted reports) is not met yet
            for kind in ("payment_request", "payment_receipt"):  # made with the request, on the day of payment
                await time_travel.redate_letters(
                    application_id, kind, paid_on, tranche=int(tranche["id"]), also=("decree", "agreement")
                )
            await services.act(tranche["id"], "authorize", self.finance2, {}, None)
            # The demo pays in the past: its payment order is dated on that day, not on the day the demo loads.
            await time_travel.redate_letters(application_id, "payment_order", paid_on, tranche=int(tranche["id"]))
            ref = f"BRI{paid_on:%Y%m%d}{next(self.payments):05d}"
            body = {"transfer_reference": ref, "paid_at": paid_on.isoformat()}
            await services.act(tranche["id"], "pay", self.finance, body, None)

    async def report(
        self, leader: CurrentUser, application_id: int, period: str, month: int, index: int, final: bool
    ) -> None:
        from tkm.ledger import services as ledger
        from tkm.programmes.schemas import COMPONENTS
        from tkm.reports import services
        from tkm.reports.schemas import ExpenseLine, ProductionLine, ReportIn, SaleLine

        grow = 100 + month * 15 + index * 3  # percent: groups sell more as they settle in
        production, sales = [], []
        revenue = 0
        for product, (unit, per_month, price) in PRODUCTS.items():
            made = per_month * grow // 100
            sold = made * 85 // 100
            production.append(ProductionLine(product=product, unit=unit, quantity=made))
            sales.append(SaleLine(product=product, quantity=sold, revenue=sold * price))
            revenue += sold * price
        # Grant money is spent by RAB component, out of what was paid for it (nearly all in the final report);
        # raw materials and promotion come from the group's own sales money (its reinvestment).
        held = (await ledger.pools(application_id))["grant"]
        share = 90 if final else (60 if month == 0 else 40)  # a tenth is left over, and returned at the end
        expenses = [
            ExpenseLine(category=GRANT_CATEGORY[c], amount=held[c] * share // 100, source="grant", component=c)
            for c in COMPONENTS
            if held.get(c, 0) * share // 100
        ]
        expenses += [
            ExpenseLine(category="raw_materials", amount=revenue * 30 // 100, source="sales"),
            ExpenseLine(category="marketing", amount=revenue * 5 // 100, source="sales"),
        ]
        data = ReportIn(
            period=period,
            production=production,
            sales=sales,
            expenses=expenses,
            workers=10 + month,
            wages_paid=1_500_000,
            notes="Permintaan masker dari puskesmas dan sekolah naik." if month else "Bulan pertama produksi.",
            final=final,
        )
        submitted = await services.submit(application_id, leader, data)
        await services.review(submitted["id"], "accept", self.reviewer, "Sesuai bukti penjualan.", None)

    async def run_grant(self, leader: CurrentUser, application_id: int, months: int, target: str, index: int) -> None:
        """After approval: the agreement, payments and reports for each month since the approval."""
        approved = await self.backdate_approval(application_id, months)
        await self.step(leader, application_id, "sign_agreement")
        start = approved.date()
        await self.pay_due(application_id, min(today(), start + dt.timedelta(days=7)))
        # A suspended group stopped after its first month; a terminated one broke up before its last wages were
        # paid (they go back to the programme), so it reports until the month before.
        reports = {"suspended": 1, "terminated": max(months - 1, 1)}.get(target, months + 1)

        def period_of(m: int) -> tuple[str, dt.datetime]:
            local = approved.replace(day=1) + dt.timedelta(days=32 * m)
            return f"{local.year:04d}-{local.month:02d}", local

        for m in range(reports):
            period, local = period_of(m)
            final = target == "completed" and m == reports - 1
            await self.report(leader, application_id, period, m, index, final)
            if target == "active" and index == 0 and m >= 1:
                # The last wage tranche is held back (fewer paid working days were needed); the group asks to
                # move part of it to promotion (a budget amendment, approved today).
                if m == reports - 1:
                    await self.amend_budget(leader, application_id)
                continue
            await self.pay_due(application_id, min(today(), dt.date(local.year, local.month, 20)))
        if target == "completed":
            await self.return_leftover(leader, application_id, index)
        if target in ("completed", "suspended", "terminated"):
            ending = {"completed": "complete", "suspended": "suspend", "terminated": "terminate"}
            await self.step(leader, application_id, ending[target])
        if target == "terminated":
            # A terminated grant still closes like any other: the group accounts for the money it was paid in a
            # final report, and deposits what it did not spend back to the state treasury (with the NTPN).
            await self.report(leader, application_id, period_of(reports)[0], reports, index, True)
            await self.return_leftover(leader, application_id, index)

    async def amend_budget(self, leader: CurrentUser, application_id: int) -> None:
        """An active group moves part of its unpaid wage money to promotion (perubahan RAB): proposed by the
        group, recommended by the reviewer, approved by the PPK, with its decree. Paid money stays."""
        from tkm.amendments import services as amendments
        from tkm.ledger import services as ledger

        lines = [dict(line) for line in await amendments.current_lines(application_id)]
        paid = {c: int(v["disbursed"]) for c, v in (await ledger.totals(application_id))["components"].items()}
        wages = next(line for line in lines if line["component"] == "wages")
        days = min(4, (wages["total"] - paid.get("wages", 0)) // wages["unit_cost"])
        if days <= 0:
            return
        wages["quantity"] -= days
        promotion = {"component": "marketing", "description": "Brosur dan kemasan promosi", "unit": "paket"}
        lines.append({**promotion, "quantity": 1, "unit_cost": days * wages["unit_cost"]})
        for line in lines:
            line.pop("total", None)
        reason = (
            "Dua anggota sudah terampil sehingga hari kerja upahan berkurang; "
            "brosur dan kemasan promosi perlu ditambah."
        )
        amendment = await amendments.propose(application_id, leader, {"budget": lines, "reason": reason})
        amendment = await amendments.act(amendment["id"], "recommend", self.reviewer, {"notes": "Wajar."}, None)
        await amendments.act(amendment["id"], "approve", self.approver, {"notes": "Disetujui."}, None)

    async def return_leftover(self, leader: CurrentUser, application_id: int, index: int) -> None:
        """A finished (completed or terminated) group deposits the grant money it did not spend back to the state
        treasury, proved by the NTPN."""
        from tkm.applications import attachments
        from tkm.ledger import returns
        from tkm.ledger import services as ledger

        unspent = await ledger.grant_unspent(application_id)
        if not unspent:
            return
        proof = await attachments.upload(application_id, leader, "receipt", "bukti-setor.pdf", io.BytesIO(PDF_BYTES))
        body = {
            "amount": unspent,
            "deposited_on": today().isoformat(),
            "ntpn": f"0{index:02d}{application_id:05d}DEMO0000"[:16].ljust(16, "0"),
            "attachment_id": int(proof["id"]),
            "notes": "Sisa dana bantuan yang tidak terpakai disetor ke kas negara.",
        }
        await returns.record_return(application_id, self.finance, body, f"demo-return-{application_id}")


async def _users() -> dict[str, CurrentUser]:
    from tkm.auth import services
    from tkm.auth.tables import User
    from tkm.demo.logins import DEMO_USERS

    users = {}
    for _role, email, _name, _regions in DEMO_USERS:
        row = await User.select(User.id).where(User.email == email).first()
        user = await services.get_user(int(row["id"])) if row else None
        if user is None:
            raise RuntimeError(f"demo user {email} is missing; run ensure_demo_logins() first")
        users[email] = user
    return users


async def build() -> dict[str, int]:
    """Load the demo set (the caller checked it is not there yet); returns counts for the summary line."""
    demo = Demo(await _users())
    await demo.centres()
    await demo.offices()
    await demo.programmes()
    made: list[tuple[CurrentUser, int, str]] = []
    applications = 0
    for index, spec in enumerate(GROUPS):
        target, months = spec[5], spec[6]
        created = await demo.group(index, spec)
        leader, group_id = created["leader"], int(created["group"]["id"])
        app_id = await demo.application(leader, group_id, PEMULA, index)
        applications += 1
        for action in demo_path(target):
            if action == "approve" and target == "approved":
                await demo.approve_collectively([app_id])
            else:
                await demo.step(leader, app_id, action)
        if target in GRANTED:
            await demo.run_grant(leader, app_id, months, target, index)
        made.append((leader, group_id, target))
    for index, target in LANJUTAN_TARGETS.items():
        leader, group_id, _pemula = made[index]
        app_id = await demo.application(leader, group_id, LANJUTAN, index)
        applications += 1
        for action in demo_path(target):
            await demo.step(leader, app_id, action)
    return {"centres": len(CENTRES), "programmes": 2, "groups": len(GROUPS), "applications": applications}


async def _load(scale: int, quiet_if_loaded: bool) -> str:
    from tkm.core import db
    from tkm.programmes.tables import Programme

    db.configure()
    await db.open_pool()
    try:
        if await Programme.exists().where(Programme.code == PEMULA):
            message = "" if quiet_if_loaded else "Demo data is already loaded; nothing to do."
        else:
            async with db.transaction():  # all or nothing: a failed load leaves no half a demo behind
                counts = await build()
            message = (
                "Demo data loaded: {centres} training centres, {programmes} programmes, {groups} groups, "
                "{applications} applications (letters are rendered by the worker)."
            ).format(**counts)
        if scale > 0:
            from tkm.demo.scale import load_scale

            message = "\n".join(filter(None, [message, await load_scale(scale)]))
        return message
    finally:
        await db.close_pool()


def load_demo(scale: int = 0, *, quiet_if_loaded: bool = False) -> str:
    """Load the demo set (once) and ``scale`` extra groups; returns what was done, for people."""
    return asyncio.run(_load(scale, quiet_if_loaded))
