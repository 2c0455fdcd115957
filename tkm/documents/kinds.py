"""The kinds of documents: their default register codes, Indonesian titles (letters) and labels (pages)."""

from __future__ import annotations

from dataclasses import dataclass

from tkm.core.i18n import N_


@dataclass(frozen=True)
class Kind:
    name: str
    #: Register code in the number unless the office overrides it (``kind_codes``).
    code: str
    #: The title printed on the letter (letters are always in Bahasa Indonesia).
    title: str
    #: For people, translated where shown (verification page, lists).
    label: str
    #: Made for one application (False: programme-level reports).
    per_application: bool = True
    #: An official of the office signs it (False: the group alone signs, e.g. its statement of commitment).
    signed_by_office: bool = True


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("submission_receipt", "TT", "Tanda Terima Permohonan Bantuan", N_("Receipt of application")),
        Kind("revision_request", "PRB", "Permintaan Perbaikan Proposal", N_("Request for revision")),
        Kind("approval_decree", "SK", "Keputusan Penetapan Penerima Bantuan", N_("Decree naming the recipient")),
        Kind("rejection_letter", "TLK", "Pemberitahuan Hasil Seleksi", N_("Rejection letter")),
        Kind("termination_letter", "PHB", "Pemberitahuan Penghentian Bantuan", N_("Termination letter")),
        Kind(
            "amendment_decree",
            "SK-PRB",
            "Keputusan Perubahan Rencana Anggaran Biaya",
            N_("Budget amendment decree"),
        ),
        Kind("payment_order", "SPM", "Surat Perintah Membayar", N_("Payment order")),
        Kind("handover_record", "BAST", "Berita Acara Serah Terima Bantuan", N_("Handover record")),
        Kind("funds_trail", "JD", "Laporan Jejak Dana Bantuan", N_("Funds trail")),
        Kind(
            "return_receipt",
            "STS",
            "Tanda Terima Setoran Sisa Dana Bantuan ke Kas Negara",
            N_("Receipt of a deposit to the state treasury"),
        ),
        # The rest of the juknis cycle: the group's commitment at submission, the agreement at approval, the
        # receipt and the payment request of each tranche, the accountability report at completion.
        Kind(
            "commitment_statement",
            "SPK",
            "Surat Pernyataan Kesanggupan",
            N_("Statement of commitment"),
            signed_by_office=False,
        ),
        Kind("cooperation_agreement", "PKS", "Perjanjian Kerja Sama", N_("Cooperation agreement")),
        Kind("payment_receipt", "KWT", "Kuitansi", N_("Receipt of payment (kuitansi)")),
        Kind("payment_request", "SPP", "Surat Permintaan Pembayaran", N_("Payment request (SPP)")),
        Kind(
            "accountability_report",
            "LPJ",
            "Laporan Pertanggungjawaban Penggunaan Bantuan",
            N_("Accountability report (LPJ)"),
        ),
        # One SK for the groups an approver approves at once, and its extract (petikan) for each group.
        Kind(
            "collective_decree",
            "SKK",
            "Keputusan Penetapan Penerima Bantuan",
            N_("Collective decree naming the recipients"),
            per_application=False,
        ),
        Kind("decree_extract", "PTK", "Petikan Keputusan Penetapan Penerima Bantuan", N_("Extract of the decree")),
        Kind("programme_summary", "REKAP", "Rekapitulasi Program", N_("Programme summary"), per_application=False),
    )
}

#: Budget components as printed on letters.
COMPONENT_LABELS = {
    "capital": "Modal usaha",
    "wages": "Upah tenaga kerja",
    "product_development": "Pengembangan produk",
    "marketing": "Pemasaran",
}

MEMBER_ROLE_LABELS = {"ketua": "Ketua", "sekretaris": "Sekretaris", "bendahara": "Bendahara", "anggota": "Anggota"}

ATTACHMENT_LABELS = {
    "proposal": "Proposal usaha",
    "ktp": "Fotokopi KTP anggota",
    "sk_kelompok": "SK pembentukan kelompok",
    "photo": "Foto kegiatan",
    "agreement": "Perjanjian kerja sama",
    "receipt": "Bukti pembelian",
    "other": "Dokumen lain",
}

#: Funds-trail entry kinds as printed (the ledger's kinds; unknown ones print as they are).
LEDGER_KIND_LABELS = {
    "commitment": "Komitmen anggaran",
    "commit": "Komitmen anggaran",
    "disbursement": "Penyaluran",
    "disburse": "Penyaluran",
    "spending": "Belanja",
    "spend": "Belanja",
    "revenue": "Pendapatan penjualan",
    "reinvestment": "Investasi kembali",
    "reinvest": "Investasi kembali",
    "reversal": "Koreksi (pembalikan)",
    "refund": "Pengembalian dana",
    "return": "Setoran sisa dana ke kas negara",
    # The kinds of the funds trail's lines (tkm.ledger.accounts.trail_line).
    "payment": "Penyaluran ke kelompok",
    "report_expense": "Belanja (laporan)",
    "report_revenue": "Pendapatan penjualan (laporan)",
    "report_reinvestment": "Investasi kembali (laporan)",
    "release": "Pelepasan sisa komitmen",
    "amendment": "Perubahan RAB",
    "report": "Laporan bulanan",
}

#: Products as printed (groups and reports name them as codes or free words); others print with spaces.
PRODUCT_LABELS = {"masker": "Masker", "hand_sanitizer": "Hand sanitizer", "sabun": "Sabun"}

#: When a tranche may be paid (the tranche conditions of the flows), as an SPM states it.
CONDITION_LABELS = {
    "on_approval": "setelah penetapan penerima bantuan dan penandatanganan perjanjian kerja sama",
    "after_first_accepted_report": "setelah laporan bulanan pertama kelompok diterima",
    "after_accepted_reports": "setelah laporan bulanan kelompok diterima",
}


def words_for(code: str, labels: dict[str, str], fallback: str) -> str:
    """A code in words: its label, else ``fallback`` (a letter never prints a raw code)."""
    return labels.get(code) or fallback


#: Expense categories of monthly reports as printed (funds-trail lines of spending carry them).
EXPENSE_LABELS = {
    "raw_materials": "Bahan baku",
    "equipment": "Peralatan",
    "wages": "Upah tenaga kerja",
    "marketing": "Pemasaran",
    "other": "Lainnya",
}
