from piccolo.columns import JSON, BigInt, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tkm.auth.tables import User
from tkm.groups.tables import Group
from tkm.programmes.tables import Programme


class Application(Table, tablename="applications"):
    programme = ForeignKey(Programme, on_delete=OnDelete.restrict, index=True)
    group_id = ForeignKey(Group, on_delete=OnDelete.restrict, index=True)
    applicant = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    #: Copied from the group when the application is made: what region scopes filter on.
    region = Varchar(length=20, index=True)
    workflow = Varchar(length=60)
    status = Varchar(length=40, index=True)
    #: Bumped by every change; clients send it back as If-Match.
    version = Integer(default=1)
    business_plan = JSON(default="{}")
    requested_total = BigInt(default=0)
    #: {component: rupiah} set by the reviewer's recommendation and by the approval.
    recommended_budget = JSON(default="{}")
    approved_budget = JSON(default="{}")
    approved_total = BigInt(default=0)
    #: {criterion: 1..5} from the recommendation, and the weighted score out of 100.
    scores = JSON(default="{}")
    score = Integer(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)


class BudgetLine(Table, tablename="budget_lines"):
    application = ForeignKey(Application, on_delete=OnDelete.cascade, index=True)
    position = Integer()
    component = Varchar(length=30)
    description = Varchar(length=300)
    quantity = Integer()
    unit = Varchar(length=30)
    unit_cost = BigInt()
    total = BigInt()


class Attachment(Table, tablename="attachments"):
    application = ForeignKey(Application, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=20)
    filename = Varchar(length=255)
    content_type = Varchar(length=100)
    size = BigInt()
    sha256 = Varchar(length=64)
    #: Random file name under TKM_DATA_DIR/attachments; never derived from user input.
    storage_key = Varchar(length=80, unique=True)
    uploaded_by = ForeignKey(User, on_delete=OnDelete.restrict)
    uploaded_at = Timestamptz()
    #: A photo's GPS position and time taken, kept from its EXIF (the rest is stripped): JSON or null.
    photo = JSON(null=True, default=None)
