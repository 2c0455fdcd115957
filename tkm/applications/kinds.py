"""Kinds of attachment, with names for people."""

from tkm.core.i18n import N_

KINDS = ("proposal", "ktp", "sk_kelompok", "photo", "agreement", "receipt", "other")
LABELS = {
    "proposal": N_("business proposal"),
    "ktp": N_("members' identity cards (KTP)"),
    "sk_kelompok": N_("group decree (SK kelompok)"),
    "photo": N_("photo"),
    "agreement": N_("signed agreement"),
    "receipt": N_("receipt"),
    "other": N_("other document"),
}


def label(kind: str) -> str:
    from tkm.core.i18n import gettext

    return gettext(LABELS.get(kind, kind))
