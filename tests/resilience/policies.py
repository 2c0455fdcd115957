"""Who may reach each route: one declared policy per route of the app (read by test_access_matrix.py).

An outcome is what a caller gets *at the door*, whatever the body then says:
``ok`` (let in: any answer but 401, 403 or 404; a 422 for the matrix's empty body is fine),
``401`` (not logged in; a page redirects to the log-in page instead), ``403`` (this role may not),
``404`` (the record is not the caller's to see).

Who calls, per role (the matrix's relations):

- ``anonymous``;
- ``applicant`` as the record's ``owner``, or as ``other_owner`` (another group's leader);
- ``reviewer``, ``approver``, ``finance`` in the record's region (``own_region``, scope ``13``) or
  in another (``other_region``, scope ``31``);
- ``auditor`` and ``admin`` (``any``: they have no region).

A new route without an entry here fails the matrix: decide who may reach it, then add it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("anonymous", "applicant", "reviewer", "approver", "finance", "auditor", "admin")
STAFF = ("reviewer", "approver", "finance")
RELATIONS = {
    "anonymous": ("none",),
    "applicant": ("owner", "other_owner"),
    "reviewer": ("own_region", "other_region"),
    "approver": ("own_region", "other_region"),
    "finance": ("own_region", "other_region"),
    "auditor": ("any",),
    "admin": ("any",),
}
IN_SCOPE = frozenset({"owner", "own_region", "any", "none"})


@dataclass(frozen=True)
class Policy:
    """``allowed``: roles let in. ``scoped``: the route names a record, so a caller outside its scope gets 404
    (``hidden_from`` roles get 404 even in scope, e.g. a record kind they never see).
    ``refused``: what a logged-in role not in ``allowed`` gets (403, or 404 where the record check comes first).
    ``anonymous``: what a caller without a login gets."""

    allowed: tuple[str, ...]
    scoped: bool = False
    refused: str = "403"
    anonymous: str = "401"
    #: (role, relation) → outcome, where a route differs from the rule above.
    exceptions: dict[tuple[str, str], str] = field(default_factory=dict)
    #: The call ends the caller's login (log-out): the matrix gives it a login of its own.
    ends_login: bool = False
    #: What a caller let in gets, when it is not ``ok``: the log-in form with an empty body answers 401,
    #: a log-out sends to the log-in page (which reads as 401).
    answer: str = "ok"
    #: The record is looked up before the role is asked (the role depends on the action in the path):
    #: callers outside the record's scope get 404 whatever their role.
    hidden_first: bool = False
    #: A body that parses but is refused on its content, where an empty body would not reach the door.
    body: dict | None = None
    #: Send a small text file as multipart ``file`` (refused by type once let in).
    upload: bool = False

    def expect(self, role: str, relation: str) -> str:
        if (role, relation) in self.exceptions:
            return self.exceptions[(role, relation)]
        if role == "anonymous":
            return self.answer if "anonymous" in self.allowed else self.anonymous
        if self.hidden_first and self.scoped and relation not in IN_SCOPE:
            return "404"
        if role not in self.allowed:
            return self.refused  # a role refused by the route's guard learns nothing about the record
        if self.scoped and relation not in IN_SCOPE:
            return "404"
        return self.answer


EVERYONE = ROLES
LOGGED_IN = ROLES[1:]
ANY_STAFF = ("reviewer", "approver", "finance", "auditor", "admin")


def public() -> Policy:
    return Policy(allowed=EVERYONE)


def login() -> Policy:
    return Policy(allowed=LOGGED_IN)


def only(*roles: str, refused: str = "403") -> Policy:
    return Policy(allowed=roles, refused=refused)


def record(*roles: str, refused: str = "403", **kwargs: object) -> Policy:
    """A route about one record: ``roles`` reach it inside their scope, 404 outside it."""
    return Policy(allowed=roles, scoped=True, refused=refused, **kwargs)  # type: ignore[arg-type]


#: Readers of an application and what hangs on it: its owner, staff of its region, auditors, admins.
APP_READERS = ("applicant", "reviewer", "approver", "finance", "auditor", "admin")

#: A report body that parses but is refused (a period long before the grant).
OLD_REPORT = {"period": "1999-01", "production": [], "sales": [], "expenses": [], "workers": 0, "wages_paid": 0}

POLICIES: dict[tuple[str, str], Policy] = {
    # Operations, schema, static files, language.
    ("GET", "/health"): public(),
    ("GET", "/schema"): public(),
    ("GET", "/schema/openapi.json"): public(),
    ("GET", "/schema/{path:str}"): public(),
    ("GET", "/static/{file_path:path}"): public(),
    ("GET", "/lang/{code:str}"): public(),
    ("GET", "/"): login(),  # the home page sends a visitor to the log-in page
    # Accounts.
    ("POST", "/api/v1/auth/login"): public(),
    ("POST", "/api/v1/auth/register"): public(),
    ("POST", "/api/v1/auth/password-reset"): public(),
    ("POST", "/api/v1/auth/password-reset/confirm"): public(),
    ("POST", "/api/v1/auth/logout"): Policy(allowed=LOGGED_IN, ends_login=True),
    ("GET", "/api/v1/me"): login(),
    ("GET", "/api/v1/users"): only("admin", "auditor"),
    ("POST", "/api/v1/users"): only("admin"),
    ("GET", "/login"): public(),
    ("POST", "/login"): Policy(allowed=EVERYONE, answer="401"),
    ("POST", "/logout"): Policy(allowed=EVERYONE, ends_login=True, answer="401"),
    ("GET", "/register"): public(),
    ("POST", "/register"): public(),
    ("GET", "/password-reset"): public(),
    ("POST", "/password-reset"): public(),
    # An unknown link is a 404 page for anyone: there is nothing to see without a valid token.
    ("GET", "/password-reset/{token:str}"): Policy(
        allowed=EVERYONE, exceptions={(r, x): "404" for r in ROLES for x in RELATIONS[r]}
    ),
    ("POST", "/password-reset/{token:str}"): public(),
    # Reference data.
    ("GET", "/api/v1/regions"): public(),
    ("GET", "/api/v1/regions/{code:str}"): public(),
    ("GET", "/api/v1/training-centres"): login(),
    ("POST", "/api/v1/training-centres"): only("admin"),
    ("GET", "/api/v1/programmes"): login(),
    ("POST", "/api/v1/programmes"): only("admin"),
    ("GET", "/api/v1/programmes/{code:str}"): login(),
    ("PATCH", "/api/v1/programmes/{code:str}"): only("admin"),
    # Groups.
    ("GET", "/api/v1/groups"): login(),
    ("POST", "/api/v1/groups"): only("applicant"),
    ("GET", "/api/v1/groups/{group_id:int}"): record(*APP_READERS),
    ("PATCH", "/api/v1/groups/{group_id:int}"): record("applicant", refused="403"),
    ("POST", "/groups/check-nik"): login(),
    ("GET", "/groups/new"): only("applicant"),
    ("POST", "/groups/new"): only("applicant"),
    ("GET", "/groups/{group_id:int}"): record(*APP_READERS),
    ("GET", "/groups/{group_id:int}/edit"): record("applicant"),
    ("POST", "/groups/{group_id:int}/edit"): record("applicant"),
    ("GET", "/groups"): login(),
    ("GET", "/groups/region-options"): login(),
    # Applications.
    ("GET", "/api/v1/applications"): login(),
    ("POST", "/api/v1/applications"): only("applicant"),
    ("GET", "/api/v1/applications/{application_id:int}"): record(*APP_READERS),
    ("PATCH", "/api/v1/applications/{application_id:int}"): record("applicant"),
    # The matrix's action is ``withdraw``, the applicant's (API.md, Workflow actions): other roles get 403.
    ("POST", "/api/v1/applications/{application_id:int}/actions/{action:str}"): record("applicant", hidden_first=True),
    ("POST", "/api/v1/applications/{application_id:int}/attachments"): record("applicant", upload=True),
    ("GET", "/api/v1/attachments/{attachment_id:int}"): record(*APP_READERS),
    ("POST", "/applications/{application_id:int}/actions/{action:str}"): record("applicant", hidden_first=True),
    ("GET", "/approvals"): only("approver"),
    ("POST", "/approvals"): only("approver"),
    ("GET", "/applications/new"): only("applicant"),
    ("POST", "/applications/new"): only("applicant"),
    ("GET", "/applications/{application_id:int}"): record(*APP_READERS),
    ("GET", "/applications/{application_id:int}/edit"): record("applicant"),
    ("POST", "/applications/{application_id:int}/edit"): record("applicant"),
    ("GET", "/attachments/{attachment_id:int}/inline"): record(*APP_READERS),
    ("GET", "/applications"): login(),
    ("GET", "/review"): only("reviewer"),
    ("POST", "/applications/{application_id:int}/attachments"): record("applicant"),
    # Funds trail.
    ("GET", "/api/v1/applications/{application_id:int}/funds-trail"): record(*APP_READERS),
    ("GET", "/api/v1/funds-trail"): only("finance", "auditor"),
    ("GET", "/api/v1/applications/{application_id:int}/returns"): record(*APP_READERS),
    ("POST", "/api/v1/applications/{application_id:int}/returns"): record("finance"),
    # Auditors and admins read the trail but issue no letter (API.md, Roles).
    ("POST", "/applications/{application_id:int}/funds-trail/pdf"): record(
        "applicant", *STAFF, exceptions={("auditor", "any"): "403", ("admin", "any"): "403"}
    ),
    ("GET", "/applications/{application_id:int}/funds-trail"): record(*APP_READERS),
    # Reports.
    ("GET", "/api/v1/applications/{application_id:int}/reports"): record(*APP_READERS),
    ("POST", "/api/v1/applications/{application_id:int}/reports"): record("applicant", body=OLD_REPORT),
    # Who runs a report's or a tranche's action is the flow file's to say (the engine asks it once it has the
    # record): the matrix's actions (accept, pay) belong to reviewers and finance in the standard flows.
    ("POST", "/api/v1/reports/{report_id:int}/actions/{action:str}"): record("reviewer", hidden_first=True),
    ("GET", "/api/v1/reports/{report_id:int}"): record(*APP_READERS),
    ("PUT", "/api/v1/reports/{report_id:int}"): record("applicant", body=OLD_REPORT),
    ("GET", "/api/v1/reports"): login(),
    ("GET", "/reports/{report_id:int}/edit"): record("applicant"),
    ("POST", "/reports/{report_id:int}/edit"): record("applicant"),
    ("GET", "/applications/{application_id:int}/reports/new"): record("applicant"),
    ("POST", "/applications/{application_id:int}/reports/new"): record("applicant"),
    ("GET", "/reports/{report_id:int}"): record(*APP_READERS),
    ("GET", "/reports"): only(*ANY_STAFF),
    ("POST", "/reports/{report_id:int}/actions/{action:str}"): record("reviewer"),
    # Budget amendments: the group proposes, the reviewer recommends, the approver decides (the matrix's
    # amendment is recommended already, so `recommend` is refused by its state once the door is passed).
    # Several applications decided at once (the collective SK): the approver alone.
    ("POST", "/api/v1/approvals"): only("approver"),
    ("POST", "/api/v1/applications/{application_id:int}/amendments"): record(
        "applicant", body={"budget": [], "reason": "Harga naik"}
    ),
    ("GET", "/api/v1/applications/{application_id:int}/amendments"): record(*APP_READERS),
    ("GET", "/api/v1/amendments/{amendment_id:int}"): record(*APP_READERS),
    ("POST", "/api/v1/amendments/{amendment_id:int}/actions/{action:str}"): record("reviewer", hidden_first=True),
    ("GET", "/applications/{application_id:int}/amendments/new"): record("applicant"),
    ("POST", "/applications/{application_id:int}/amendments/new"): record("applicant"),
    ("POST", "/amendments/{amendment_id:int}/actions/{action:str}"): record("reviewer", "approver"),
    # Disbursement: bank account numbers go to finance alone.
    ("POST", "/api/v1/tranches/{tranche_id:int}/actions/{action:str}"): record("finance", hidden_first=True),
    ("GET", "/api/v1/payment-batches"): only("finance"),
    ("GET", "/api/v1/applications/{application_id:int}/tranches"): record(*APP_READERS),
    ("GET", "/api/v1/tranches"): login(),
    ("POST", "/api/v1/bank-statements"): only("finance"),
    ("POST", "/tranches/{tranche_id:int}/actions/{action:str}"): record("finance"),
    ("GET", "/finance"): only("finance", "auditor", "admin"),  # the queue shows no account numbers
    ("GET", "/finance/statements"): only("finance"),
    ("POST", "/finance/statements"): only("finance"),
    ("GET", "/tranches/{tranche_id:int}"): record(*APP_READERS),
    # Documents and offices: offices' signatories and contacts are for staff.
    ("GET", "/api/v1/documents/{document_id:int}/pdf"): record(*APP_READERS),
    ("GET", "/api/v1/applications/{application_id:int}/documents"): record(*APP_READERS),
    ("GET", "/api/v1/documents/{document_id:int}"): record(*APP_READERS),
    ("POST", "/api/v1/programme-reports"): only("finance", "auditor"),
    ("GET", "/api/v1/offices"): only(*ANY_STAFF),
    ("POST", "/api/v1/offices"): only("admin"),
    ("GET", "/api/v1/offices/{code:str}"): only(*ANY_STAFF),
    ("PATCH", "/api/v1/offices/{code:str}"): only("admin"),
    ("GET", "/api/v1/offices/{code:str}/certificate"): only("admin"),
    ("PUT", "/api/v1/offices/{code:str}/certificate"): Policy(allowed=("admin",), upload=True),
    # The logo is printed on every letter: any logged-in user may see it; only the admin changes it.
    ("GET", "/api/v1/offices/{code:str}/logo"): login(),
    ("PUT", "/api/v1/offices/{code:str}/logo"): Policy(allowed=("admin",), upload=True),
    ("GET", "/admin/offices"): only("admin"),
    ("GET", "/admin/offices/{code:str}"): only("admin"),
    ("POST", "/admin/offices/{code:str}"): only("admin"),
    ("POST", "/admin/offices/{code:str}/logo"): only("admin"),
    ("GET", "/api/v1/verify/{code:str}"): public(),
    ("POST", "/api/v1/verify/{code:str}"): public(),
    ("GET", "/verify"): public(),
    ("GET", "/verify/{code:str}"): public(),
    ("POST", "/verify/{code:str}"): public(),
    ("GET", "/programme-reports"): only("finance", "auditor"),
    ("POST", "/programme-reports"): only("finance", "auditor"),
    ("GET", "/programme-reports/{document_id:int}"): only("finance", "auditor"),
    # Monitoring.
    ("GET", "/api/v1/dashboard"): login(),
    ("GET", "/dashboard"): login(),
}
