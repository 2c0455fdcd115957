from piccolo.columns import JSON, BigInt, Boolean, Date, Integer, Timestamptz, Varchar
from piccolo.table import Table


class TrainingCentre(Table, tablename="training_centres"):
    code = Varchar(length=40, unique=True)
    name = Varchar(length=200)
    kind = Varchar(length=12)  # UPTP | UPTD | KOMUNITAS
    region = Varchar(length=20, index=True)
    vocations = JSON(default="[]")
    it_based = Boolean(default=False)
    created_at = Timestamptz()


class Programme(Table, tablename="programmes"):
    code = Varchar(length=40, unique=True)
    name = Varchar(length=200)
    workflow = Varchar(length=60)
    fiscal_year = Integer()
    budget_ceiling = BigInt()
    max_per_group = BigInt()
    min_members = Integer()
    max_members = Integer()
    regions = JSON(default="[]")
    opens_on = Date()
    closes_on = Date()
    #: {"capital": {"max": n}, "wages": {"max": n, "daily_wage_max": n}, "product_development": {...}, ...}
    components = JSON(default="{}")
    #: Monthly reports are due by this day of the following month; reviewers are told after the grace days.
    report_due_day = Integer(default=10)
    reminder_grace_days = Integer(default=7)
    #: {region code: rupiah}: how much of the ceiling each region may approve (tkm.programmes.quotas).
    quotas = JSON(default="{}")
    #: The budget account the grants are paid from (MAK / kode rekening), printed on every SPM.
    account_code = Varchar(length=100, default="")
    #: The DIPA / DPA the money comes from (number and date), printed on every SPM.
    budget_reference = Varchar(length=300, default="")
    created_at = Timestamptz()
