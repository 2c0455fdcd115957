"""`tkm demo --scale N`: N more groups for benchmarks, written in bulk (not through the per-request services).

Each group gets 10 members with valid NIKs, a TKM Pemula application (mostly active or completed, with
an approved budget), the tranches of the workflow's plan (paid as far as their conditions allow), its
accepted monthly reports, and the funds-trail transactions those imply. Rows go in with COPY
(PostgreSQL) or executemany (SQLite), a batch of groups per database transaction.

The funds trail stays what ``tkm verify`` expects: every transaction is a ``tkm.ledger.posting.Posting``
built from the same leg builders as the services (``tkm.ledger.accounts``), and ``Batch`` chains its
entries as links of the ``ledger`` hash chain, hashed as the services hash them, under the chain head's
lock. Each batch leaves one audit event.

A second run with the same N adds nothing: N counts the groups of the scale programme.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tkm.auth.roles import CurrentUser
from tkm.ledger.accounts import Kind
from tkm.ledger.posting import Batch, Posting
from tkm.programmes.services import JAKARTA, today
from tkm.testing import builders

PROGRAMME = "TKM-PEMULA-SKALA"
BATCH = 1000
LEADER_EMAIL = "ketua.skala@kelompok.tkm.test"
CENTRE_CODES = ("BLK-PADANG", "UPTD-BLK-BANYUMAS", "BLKK-NURUL-HUDA-AGAM")
#: What a group buys with each component's grant money (the expense category of that spending).
GRANT_CATEGORY = {"capital": "equipment", "wages": "wages", "product_development": "other", "marketing": "marketing"}
PRODUCTS = {"masker": ("pcs", 4000, 5_000), "hand_sanitizer": ("liter", 300, 35_000), "sabun": ("batang", 1500, 8_000)}
WORDS_A = ["Maju", "Sejahtera", "Bersama", "Mandiri", "Berkah", "Harapan", "Sinar", "Karya", "Bina", "Makmur"]
WORDS_B = ["Jaya", "Abadi", "Sentosa", "Lestari", "Usaha", "Bahagia", "Sehati", "Mulia", "Indah", "Utama"]
NAMES_F = ["Siti", "Nur", "Dewi", "Rina", "Yuliani", "Fitri", "Aisyah", "Wulan", "Lestari", "Rahmi"]
NAMES_M = ["Ahmad", "Budi", "Joko", "Rudi", "Hendra", "Agus", "Fajar", "Rizki", "Andi", "Eko"]
SURNAMES = ["Rahmawati", "Santoso", "Putra", "Hidayat", "Wulandari", "Saputra", "Kurniawan", "Lubis", "Siregar"]
#: status → share (percent) of the scale groups' applications.
STATUS_MIX = [
    ("active", 45),
    ("completed", 33),
    ("approved", 5),
    ("suspended", 3),
    ("submitted", 3),
    ("in_review", 3),
    ("recommended", 2),
    ("draft", 2),
    ("rejected", 2),
    ("withdrawn", 2),
]
GRANT_STATES = ("approved", "active", "completed", "suspended")
RUBRIC = {"business_feasibility": 4, "market": 4, "group_capacity": 3, "budget_fit": 4, "employment": 4}


# --- a connection of our own, with COPY / executemany ------------------------------------------------------------


class Sink:
    """One connection and one transaction at a time; ``?`` placeholders on both engines."""

    def __init__(self, url: str, kind: str, sqlite_path: str = "") -> None:
        self.kind, self.url, self.sqlite_path = kind, url, sqlite_path
        self.pg: Any = None
        self.lite: sqlite3.Connection | None = None
        self._txn: Any = None

    async def open(self) -> None:
        if self.kind == "postgres":
            import asyncpg

            self.pg = await asyncpg.connect(self.url)
        else:
            from tkm.core.db import SQLITE_BUSY_TIMEOUT_SECONDS

            self.lite = sqlite3.connect(self.sqlite_path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS, isolation_level=None)

    async def close(self) -> None:
        if self.pg is not None:
            await self.pg.close()
        if self.lite is not None:
            self.lite.close()

    async def begin(self) -> None:
        if self.pg is not None:
            self._txn = self.pg.transaction()
            await self._txn.start()
        else:
            assert self.lite is not None
            self.lite.execute("BEGIN IMMEDIATE")  # the write lock, as db.transaction() takes it

    async def commit(self) -> None:
        if self.pg is not None:
            await self._txn.commit()
        else:
            assert self.lite is not None
            self.lite.execute("COMMIT")

    async def rollback(self) -> None:
        if self.pg is not None:
            await self._txn.rollback()
        elif self.lite is not None and self.lite.in_transaction:
            self.lite.execute("ROLLBACK")

    def _pg_sql(self, sql: str) -> str:
        parts = sql.split("?")
        return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))

    def _lite_value(self, value: Any) -> Any:
        # Piccolo's SQLite storage: str(datetime), ISO dates, booleans as integers.
        if isinstance(value, dt.datetime):
            return str(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        if self.pg is not None:
            return [tuple(r) for r in await self.pg.fetch(self._pg_sql(sql), *args)]
        assert self.lite is not None
        return list(self.lite.execute(sql, [self._lite_value(a) for a in args]).fetchall())

    async def execute(self, sql: str, *args: Any) -> None:
        await self.fetch(sql, *args)

    async def insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.pg is not None:
            await self.pg.copy_records_to_table(table, records=rows, columns=list(columns))
            return
        assert self.lite is not None
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
        self.lite.executemany(sql, ([self._lite_value(v) for v in row] for row in rows))

    async def reserve_ids(self, table: str, count: int) -> list[int]:
        """Ids for rows about to be inserted (children need their parents' ids)."""
        if count == 0:
            return []
        if self.pg is not None:
            rows = await self.pg.fetch(
                "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2)", table, count
            )
            return [int(r["id"]) for r in rows]
        (top,) = (await self.fetch(f"SELECT COALESCE(MAX(id), 0) FROM {table}"))[0]  # noqa: S608 - our table names
        return list(range(int(top) + 1, int(top) + 1 + count))  # safe: BEGIN IMMEDIATE holds the write lock

    async def lock_chain(self, name: str) -> tuple[int, str]:
        from tkm.core.hashchain import GENESIS

        await self.execute(
            "INSERT INTO chain_heads (name, seq, last_hash) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING",
            name,
            GENESIS,
        )
        lock = "" if self.kind == "sqlite" else " FOR NO KEY UPDATE"
        sql = "SELECT seq, last_hash FROM chain_heads WHERE name = ?" + lock  # noqa: S608 - a constant clause
        seq, last = (await self.fetch(sql, name))[0]
        return int(seq), last or GENESIS

    async def set_chain(self, name: str, seq: int, last_hash: str) -> None:
        await self.execute("UPDATE chain_heads SET seq = ?, last_hash = ? WHERE name = ?", seq, last_hash, name)


# --- the ledger, written as the services write it --------------------------------------------------------------
# tkm.ledger.posting.Batch chains the postings in memory from the chain head, hashing each entry as
# tkm.ledger.services.post() does; the rows are then written with COPY.


# --- what one group looks like ----------------------------------------------------------------------------------


def _regencies() -> list[tuple[str, str]]:
    """(regency code, the NIK prefix of its first district) for every regency with districts."""
    from tkm import regions

    out = []
    for province in regions.provinces():
        for regency in regions.children(province.code):
            districts = regions.children(regency.code)
            if districts:
                out.append((regency.code, districts[0].code.replace(".", "")))
    return out


def _months_back(n: int, day: int) -> dt.datetime:
    now = dt.datetime.now(JAKARTA)
    year, month = now.year, now.month - n
    while month < 1:
        month, year = month + 12, year - 1
    return dt.datetime(year, month, min(day, now.day if n == 0 else 28), 9, 0, tzinfo=JAKARTA)


def _period(moment: dt.datetime, plus: int) -> tuple[str, dt.date]:
    year, month = moment.year, moment.month + plus
    while month > 12:
        month, year = month - 12, year + 1
    return f"{year:04d}-{month:02d}", dt.date(year, month, 1)


@dataclass
class Context:
    programme_id: int
    leader: CurrentUser
    reviewer: CurrentUser
    approver: CurrentUser
    finance: CurrentUser
    finance2: CurrentUser
    centres: list[int]
    regencies: list[tuple[str, str]]
    plan: Any
    now: dt.datetime


@dataclass
class Rows:
    groups: list[tuple[Any, ...]] = field(default_factory=list)
    members: list[tuple[Any, ...]] = field(default_factory=list)
    applications: list[tuple[Any, ...]] = field(default_factory=list)
    budget_lines: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    tranches: list[tuple[Any, ...]] = field(default_factory=list)
    reports: list[tuple[Any, ...]] = field(default_factory=list)
    production: list[tuple[Any, ...]] = field(default_factory=list)
    sales: list[tuple[Any, ...]] = field(default_factory=list)
    expenses: list[tuple[Any, ...]] = field(default_factory=list)


COLUMNS = {
    "groups": (
        "id", "name", "region", "address", "training_centre", "products", "bank_name", "bank_account_number",
        "bank_account_holder", "owner", "version", "created_at", "updated_at",
    ),
    "group_members": ("group_id", "nik", "name", "role", "gender", "phone", "birth_date", "position"),
    "applications": (
        "id", "programme", "group_id", "applicant", "region", "workflow", "status", "version", "business_plan",
        "requested_total", "recommended_budget", "approved_budget", "approved_total", "scores", "score",
        "created_at", "updated_at", "submitted_at", "approved_at",
    ),
    "budget_lines": ("application", "position", "component", "description", "quantity", "unit", "unit_cost", "total"),
    "history_events": (
        "record_kind", "record_id", "seq", "action", "from_state", "to_state", "actor", "actor_name", "actor_role",
        "at", "notes", "body", "hash",
    ),
    "tranches": (
        "application", "component", "seq", "amount", "condition", "status", "reference", "version", "requested_by",
        "requested_at", "authorized_by", "authorized_at", "paid_at", "transfer_reference", "payment_transaction",
        "failure_reason", "created_at", "updated_at",
    ),
    "reports": (
        "id", "application", "period", "status", "final", "revenue", "expenses_total", "reinvested", "workers",
        "wages_paid", "notes", "review_notes", "version", "submitted_by", "submitted_at", "reviewed_by",
        "reviewed_at", "ledger_transaction",
    ),
    "report_production": ("report", "product", "unit", "quantity"),
    "report_sales": ("report", "product", "quantity", "revenue"),
    "report_expenses": ("report", "category", "source", "component", "amount"),
    "ledger_accounts": ("id", "code", "owner_kind", "owner_id", "name", "component", "created_at"),
    "ledger_transactions": (
        "id", "kind", "application", "programme", "component", "reference", "memo", "reverses", "actor_id", "actor",
        "actor_name", "at",
    ),
    "ledger_entries": ("seq", "txn", "account", "amount", "application_id", "prev_hash", "hash"),
}  # fmt: skip


def _status(rng: random.Random) -> str:
    pick = rng.randrange(100)
    for status, share in STATUS_MIX:
        if pick < share:
            return status
        pick -= share
    return "active"


def _build_group(
    n: int, group_id: int, app_id: int, ctx: Context, rows: Rows, ledger: Batch, next_id: Any, report_ids: Any
) -> None:
    """Rows of group number ``n`` (stable: the same n always gives the same group)."""
    from tkm.disbursement.plan import plan_tranches, reference
    from tkm.ledger.accounts import commit_legs, payment_legs, report_legs

    rng = random.Random(n * 7919 + 17)  # demo data, not secrets
    regency, district = ctx.regencies[n % len(ctx.regencies)]
    name = f"Kelompok {rng.choice(WORDS_A)} {rng.choice(WORDS_B)} {n:05d}"
    created = ctx.now - dt.timedelta(days=200)
    centre = ctx.centres[n % len(ctx.centres)] if ctx.centres and n % 3 else None
    rows.groups.append(
        (
            group_id, name, regency, f"Jl. Usaha Bersama No. {n % 200 + 1}", centre,
            '["masker", "hand_sanitizer", "sabun"]', "BRI", f"0021{n:011d}", name, ctx.leader.id, 1, created, created,
        )
    )  # fmt: skip
    for i, role in enumerate(["ketua", "sekretaris", "bendahara"] + ["anggota"] * 7):
        female = rng.random() < 0.7
        born = dt.date(rng.randrange(1965, 2003), rng.randrange(1, 13), rng.randrange(1, 29))
        nik = builders.nik(district, born, female, serial=(n * 10 + i) % 9999 + 1)
        person = f"{rng.choice(NAMES_F if female else NAMES_M)} {rng.choice(SURNAMES)}"
        phone = f"0857{n % 10**6:06d}{i:02d}"
        rows.members.append((group_id, nik, person, role, "P" if female else "L", phone, born, i))

    status = _status(rng)
    budget = {
        "capital": rng.randrange(80, 121) * 100_000,
        "wages": 60 * rng.randrange(70, 91) * 1000,
        "product_development": rng.randrange(10, 31) * 100_000,
        "marketing": rng.randrange(5, 21) * 100_000,
    }
    total = sum(budget.values())
    granted = status in GRANT_STATES
    reviewed = granted or status in ("recommended", "rejected")
    months = rng.randrange(1, 7) if status in ("active", "completed", "suspended") else 0
    approved_at = _months_back(months, rng.randrange(1, 28)).astimezone(dt.UTC) if granted else None
    submitted_at = None if status == "draft" else (approved_at or ctx.now) - dt.timedelta(days=20)
    plan = {
        "summary": "Produksi masker kain, hand sanitizer dan sabun batang.",
        "products": [
            {"product": p, "unit": u, "units_per_day": q // 25, "unit_cost": price // 2, "unit_price": price}
            for p, (u, q, price) in PRODUCTS.items()
        ],
        "market": "Puskesmas, apotek, sekolah dan pasar tradisional.",
        "workers": 10,
    }
    score = round(sum(w * RUBRIC[c] for c, w in ctx.plan["weights"].items()) / 5)
    rows.applications.append(
        (
            app_id, ctx.programme_id, group_id, ctx.leader.id, regency, "tkm-pemula", status, 2, json.dumps(plan),
            total, json.dumps(budget if reviewed else {}), json.dumps(budget if granted else {}),
            total if granted else 0, json.dumps(RUBRIC if reviewed else {}), score if reviewed else None,
            created, approved_at or ctx.now, submitted_at, approved_at,
        )
    )  # fmt: skip
    units = {
        "capital": ("paket", 1),
        "wages": ("hari", 60),
        "product_development": ("paket", 1),
        "marketing": ("paket", 1),
    }
    for pos, (component, amount) in enumerate(budget.items()):
        unit, quantity = units[component]
        rows.budget_lines.append(
            (app_id, pos, component, f"Anggaran {component}", quantity, unit, amount // quantity, amount)
        )
    rows.events.append(
        (
            "application",
            app_id,
            1,
            "create",
            "",
            "draft",
            ctx.leader.id,
            ctx.leader.name,
            "applicant",
            created,
            "",
            "{}",
        )
    )
    if status != "draft":
        rows.events.append(
            (
                "application",
                app_id,
                2,
                "bulk_load",
                "draft",
                status,
                None,
                "system",
                "",
                approved_at or ctx.now,
                "Data skala.",
                "{}",
            )
        )
    if not granted:
        return

    assert approved_at is not None
    local_approval = approved_at.astimezone(JAKARTA)
    commit_id = next_id()
    ledger.post(
        Posting(Kind.commit, commit_legs(ctx.programme_id, app_id, budget), app_id, ctx.programme_id),
        commit_id,
        ctx.approver,
        approved_at,
    )
    reports = 0 if status == "approved" else (1 if status == "suspended" else months + 1)
    if status == "active" and months > 1:
        reports = months  # this month's report is not in yet
    planned = plan_tranches(ctx.plan["tranches"], budget)

    def payable(condition: str, seq: int, accepted: int) -> bool:
        if condition == "on_approval":
            return True
        if condition == "after_first_accepted_report":
            return accepted >= 1
        return accepted >= seq - 1  # after_accepted_reports

    paid_by_reports: dict[int, list[Any]] = {}
    for t in planned:
        when = None
        for k in range(reports + 1):
            if status != "approved" and payable(t.condition, t.seq, k):
                when = k
                break
        ref = reference(app_id, t.component, t.seq)
        if when is None:
            tranche_status = "frozen" if status == "suspended" else "planned"
            rows.tranches.append(
                (
                    app_id, t.component, t.seq, t.amount, t.condition, tranche_status, ref, 1, None, None, None, None,
                    None, "", None, "", approved_at, approved_at,
                )
            )  # fmt: skip
            continue
        paid_by_reports.setdefault(when, []).append((t, ref))

    held: dict[str, int] = {}  # grant money the group holds, per component

    def pay(k: int) -> None:
        for t, ref in paid_by_reports.get(k, []):
            paid_on = min(today(), (local_approval + dt.timedelta(days=7 + 30 * k)).date())
            at = min(ctx.now, dt.datetime.combine(paid_on, dt.time(10, 0), tzinfo=JAKARTA).astimezone(dt.UTC))
            txn_id = next_id()
            transfer = f"BRI{paid_on:%Y%m%d}{txn_id:07d}"
            legs = payment_legs(app_id, t.component, t.amount)
            held[t.component] = held.get(t.component, 0) + t.amount
            ledger.post(
                Posting(Kind.payment, legs, app_id, ctx.programme_id, component=t.component, reference=transfer),
                txn_id,
                ctx.finance,
                at,
            )
            rows.tranches.append(
                (
                    app_id, t.component, t.seq, t.amount, t.condition, "paid", ref, 4, ctx.finance.id, at,
                    ctx.finance2.id, at, paid_on, transfer, txn_id, "", approved_at, at,
                )
            )  # fmt: skip

    pay(0)
    for k in range(reports):
        period, first_day = _period(local_approval, k)
        grow = 100 + 10 * k + rng.randrange(-10, 30)
        revenue = 0
        report_id = report_ids()
        for product, (unit, per_month, price) in PRODUCTS.items():
            made = per_month * grow // 100
            sold = made * rng.randrange(70, 96) // 100
            rows.production.append((report_id, product, unit, made))
            rows.sales.append((report_id, product, sold, sold * price))
            revenue += sold * price
        # Grant money is spent per component out of what was paid for it (all in a completed grant's last
        # report); raw materials and promotion come from the group's own sales money.
        last = status == "completed" and k == reports - 1
        grant: dict[str, int] = {}
        for component in list(held):
            amount = held[component] if last else held[component] * rng.randrange(40, 81) // 100
            if amount:
                grant[component] = amount
                held[component] -= amount
                rows.expenses.append((report_id, GRANT_CATEGORY[component], "grant", component, amount))
        own_lines = {"raw_materials": revenue * 30 // 100, "marketing": revenue * rng.randrange(2, 8) // 100}
        for category, amount in own_lines.items():
            if amount:
                rows.expenses.append((report_id, category, "sales", "", amount))
        reinvested = sum(own_lines.values())
        reviewed_on = min(ctx.now, dt.datetime.combine(first_day, dt.time(9), tzinfo=JAKARTA) + dt.timedelta(days=38))
        reviewed_at = max(reviewed_on.astimezone(dt.UTC), approved_at)
        txn_id = next_id()
        legs = report_legs(app_id, grant, revenue, reinvested)
        ledger.post(
            Posting(Kind.report, legs, app_id, ctx.programme_id, reference=f"LAP-{app_id}-{period}"),
            txn_id,
            ctx.reviewer,
            reviewed_at,
        )
        final = status == "completed" and k == reports - 1
        rows.reports.append(
            (
                report_id, app_id, period, "accepted", final, revenue, sum(grant.values()) + reinvested, reinvested,
                10 + k, 1_500_000, "", "Sesuai bukti.", 2, ctx.leader.id, reviewed_at, ctx.reviewer.id, reviewed_at,
                txn_id,
            )
        )  # fmt: skip
        pay(k + 1)


async def _write(sink: Sink, rows: Rows, ledger: Batch, now: dt.datetime) -> None:
    account_ids = await sink.reserve_ids("ledger_accounts", len(ledger.new_accounts))
    for account, account_id in zip(ledger.new_accounts, account_ids, strict=True):
        ledger.accounts[account.code] = account_id
    await sink.insert(
        "ledger_accounts",
        COLUMNS["ledger_accounts"],
        [
            (i, a.code, a.owner_kind, a.owner_id, a.name, a.component, now)
            for a, i in zip(ledger.new_accounts, account_ids, strict=True)
        ],
    )
    await sink.insert("groups", COLUMNS["groups"], rows.groups)
    await sink.insert("group_members", COLUMNS["group_members"], rows.members)
    await sink.insert("applications", COLUMNS["applications"], rows.applications)
    await sink.insert("budget_lines", COLUMNS["budget_lines"], rows.budget_lines)
    # Each event carries its keyed hash, as tkm.workflow.history.append writes it.
    from tkm.workflow.history import row_hash

    names = COLUMNS["history_events"][:-1]
    events = [(*e, row_hash(dict(zip(names, e, strict=True)))) for e in rows.events]
    await sink.insert("history_events", COLUMNS["history_events"], events)
    await sink.insert(
        "ledger_transactions",
        COLUMNS["ledger_transactions"],
        [tuple(t[c] for c in COLUMNS["ledger_transactions"]) for t in ledger.txns],
    )
    await sink.insert(
        "ledger_entries",
        COLUMNS["ledger_entries"],
        [(s, t, ledger.accounts[code], a, app, p, h) for s, t, code, a, app, p, h in ledger.entries],
    )
    await sink.insert("tranches", COLUMNS["tranches"], rows.tranches)
    await sink.insert("reports", COLUMNS["reports"], rows.reports)
    await sink.insert("report_production", COLUMNS["report_production"], rows.production)
    await sink.insert("report_sales", COLUMNS["report_sales"], rows.sales)
    await sink.insert("report_expenses", COLUMNS["report_expenses"], rows.expenses)


async def _audit(sink: Sink, action: str, details: dict[str, Any]) -> None:
    """One audit event for the batch, a link of the audit chain (written as tkm.core.audit writes it)."""
    from tkm.core import audit, hashchain

    seq, prev = await sink.lock_chain(audit.CHAIN)
    at = dt.datetime.now(dt.UTC)
    details = json.loads(json.dumps(details, default=str))
    fields = audit._fields(at, None, "cli", action, "programme", str(details["programme"]), "", details)
    digest = hashchain.digest(prev, {**fields, "seq": seq + 1})
    await sink.insert(
        "audit_events",
        (
            "seq",
            "at",
            "actor_id",
            "actor",
            "action",
            "object_type",
            "object_id",
            "address",
            "details",
            "prev_hash",
            "hash",
        ),
        [
            (
                seq + 1,
                at,
                None,
                "cli",
                action,
                "programme",
                str(details["programme"]),
                "",
                json.dumps(details),
                prev,
                digest,
            )
        ],
    )
    await sink.set_chain(audit.CHAIN, seq + 1, digest)


async def _programme(admin: CurrentUser, count: int) -> int:
    """The scale programme (through the programmes service), funded like commit_budget funds it."""
    from tkm import regions
    from tkm.programmes import services
    from tkm.programmes.schemas import ComponentRule, ProgrammeIn
    from tkm.programmes.tables import Programme

    row = await Programme.select(Programme.id).where(Programme.code == PROGRAMME).first()
    if row:
        return int(row["id"])
    created = await services.create_programme(
        admin,
        ProgrammeIn(
            code=PROGRAMME,
            name=f"TKM Pemula {today().year} Nasional (data skala)",
            workflow="tkm-pemula",
            fiscal_year=today().year,
            budget_ceiling=25_000_000 * max(count, 100_000),
            max_per_group=25_000_000,
            min_members=5,
            max_members=20,
            regions=[p.code for p in regions.provinces()],
            opens_on=today() - dt.timedelta(days=240),
            closes_on=today() + dt.timedelta(days=60),
            components={
                "capital": ComponentRule(max=12_000_000),
                "wages": ComponentRule(max=6_000_000, daily_wage_max=100_000),
                "product_development": ComponentRule(max=4_000_000),
                "marketing": ComponentRule(max=3_000_000),
            },
        ),
    )
    return int(created["id"])


async def _leader(admin: CurrentUser) -> CurrentUser:
    import secrets

    from tkm.auth import services
    from tkm.auth.tables import User

    row = await User.select(User.id).where(User.email == LEADER_EMAIL).first()
    if row:
        user = await services.get_user(int(row["id"]))
        assert user is not None
        return user
    password = "tkm-" + secrets.token_urlsafe(12)
    return await services.create_user(admin, LEADER_EMAIL, "Ketua Kelompok Skala", password, "applicant", [], "")


async def load_scale(count: int, *, progress: Any = None) -> str:
    """Make the scale programme hold ``count`` groups (adds only what is missing)."""
    from tkm.core import db
    from tkm.core.settings import get_settings
    from tkm.demo.load import _users
    from tkm.programmes.tables import TrainingCentre
    from tkm.workflow import loader

    users = await _users()
    admin = users["admin@tkm.test"]
    programme_id = await _programme(admin, count)
    leader = await _leader(admin)
    existing = await db.fetch_one("SELECT COUNT(*) AS n FROM applications WHERE programme = {}", programme_id)
    have = int(existing["n"]) if existing else 0
    if have >= count:
        return f"Scale data: the scale programme already has {have} groups; nothing to add."
    workflow = loader.get("tkm-pemula")
    centres = [
        int(r["id"])
        for r in await TrainingCentre.select(TrainingCentre.id).where(TrainingCentre.code.is_in(list(CENTRE_CODES)))
    ]
    ctx = Context(
        programme_id=programme_id,
        leader=leader,
        reviewer=users["verifikator@tkm.test"],
        approver=users["ppk@tkm.test"],
        finance=users["keuangan@tkm.test"],
        finance2=users["bendahara@tkm.test"],
        centres=centres,
        regencies=_regencies(),
        plan={"tranches": workflow.tranches, "weights": {c.criterion: c.weight for c in workflow.rubric}},
        now=dt.datetime.now(dt.UTC),
    )
    settings = get_settings()
    sink = Sink(settings.database_url, settings.database_kind, str(settings.sqlite_path))
    await sink.open()
    try:
        for start in range(have, count, BATCH):
            end = min(count, start + BATCH)
            await sink.begin()
            try:
                await _batch(sink, ctx, start, end)
                await sink.commit()
            except BaseException:
                await sink.rollback()
                raise
            if progress:
                progress(end - have, count - have)
        if sink.kind == "postgres":
            # Fresh planner statistics: queries over the new rows should not wait for autovacuum to notice them.
            await sink.execute("ANALYZE")
    finally:
        await sink.close()
    return f"Scale data: added {count - have} groups (the scale programme has {count})."


async def _batch(sink: Sink, ctx: Context, start: int, end: int) -> None:
    from tkm.ledger import activity
    from tkm.ledger.accounts import funding_legs
    from tkm.ledger.services import CHAIN

    size = end - start
    await _audit(sink, "demo.scale_loaded", {"programme": ctx.programme_id, "groups": [start + 1, end]})
    seq, prev = await sink.lock_chain(CHAIN)
    known = {
        code: int(i)
        for code, i in await sink.fetch(
            "SELECT code, id FROM ledger_accounts WHERE owner_kind = 'programme' AND owner_id = ?", ctx.programme_id
        )
    }
    ledger = Batch(seq=seq, prev=prev, accounts=known)
    group_ids = await sink.reserve_ids("groups", size)
    app_ids = await sink.reserve_ids("applications", size)
    # Over-reserve: at most 1 commit + 8 payments + 7 reports per group, and one funding transaction.
    txn_ids = iter(await sink.reserve_ids("ledger_transactions", size * 16 + 1))
    report_ids = iter(await sink.reserve_ids("reports", size * 7))
    funded = await sink.fetch(
        "SELECT COUNT(*) FROM ledger_transactions WHERE programme = ? AND kind = 'funding'", ctx.programme_id
    )
    if not funded[0][0]:
        ceiling = (await sink.fetch("SELECT budget_ceiling FROM programmes WHERE id = ?", ctx.programme_id))[0][0]
        funding = Posting(
            Kind.funding,
            funding_legs(ctx.programme_id, int(ceiling)),
            programme_id=ctx.programme_id,
            reference=f"budget_ceiling {ceiling}",
        )
        ledger.post(funding, next(txn_ids), None, ctx.now)
    rows = Rows()
    for offset in range(size):
        _build_group(
            start + offset + 1, group_ids[offset], app_ids[offset], ctx, rows, ledger,
            lambda: next(txn_ids), lambda: next(report_ids),
        )  # fmt: skip
    await _write(sink, rows, ledger, ctx.now)
    await sink.set_chain(CHAIN, ledger.seq, ledger.prev)
    # The monthly activity beside the ledger, computed from the entries just written (as the services keep it).
    for statement in activity.rebuild_statements(sink.kind == "sqlite", min(app_ids), max(app_ids)):
        await sink.execute(statement)
