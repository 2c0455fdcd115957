from piccolo.columns import JSON, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tkm.auth.tables import User
from tkm.programmes.tables import TrainingCentre


class Group(Table, tablename="groups"):
    name = Varchar(length=200)
    #: Kemendagri code of the regency/city or district where the group works (e.g. 13.71).
    region = Varchar(length=20, index=True)
    address = Text(default="")
    training_centre = ForeignKey(TrainingCentre, null=True, default=None, on_delete=OnDelete.restrict)
    products = JSON(default="[]")
    bank_name = Varchar(length=100, default="")
    bank_account_number = Varchar(length=40, default="")
    bank_account_holder = Varchar(length=200, default="")
    #: The applicant (usually the ketua) who registered the group and may act for it.
    owner = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Member(Table, tablename="group_members"):
    group_id = ForeignKey(Group, on_delete=OnDelete.cascade, index=True)
    nik = Varchar(length=16, index=True)
    name = Varchar(length=200)
    role = Varchar(length=12)  # ketua | sekretaris | bendahara | anggota
    gender = Varchar(length=1)  # L | P
    phone = Varchar(length=30, default="")
    birth_date = Date(null=True, default=None)
    position = Integer(default=0)
