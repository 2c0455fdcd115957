"""Read workflows/*.toml and validate them; every error names the file and the key."""

from __future__ import annotations

import re
import tomllib
from collections import deque
from pathlib import Path
from typing import Any

from tkm.applications.kinds import KINDS as ATTACHMENT_KINDS
from tkm.auth.roles import ROLES
from tkm.programmes.schemas import COMPONENTS
from tkm.workflow import registry
from tkm.workflow.definition import (
    FIELD_TYPES,
    Action,
    BodyField,
    Criterion,
    HookRef,
    Label,
    State,
    TranchePlan,
    Workflow,
)

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
TOP_KEYS = {"name", "title", "initial", "states", "actions", "rubric", "tranches"}
STATE_KEYS = {"label", "terminal", "holds_grant", "editable", "uploads"}
ACTION_KEYS = {"label", "from", "to", "roles", "body", "guards", "effects", "style"}
FIELD_KEYS = {"type", "required", "max_length"}


class WorkflowError(Exception):
    """A workflow file is wrong; the message starts with ``file: key:``."""


class _Checker:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, message: str) -> WorkflowError:
        return WorkflowError(f"{self.file}: {key}: {message}")

    def table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return value

    def keys(self, table: dict[str, Any], allowed: set[str], key: str) -> None:
        for name in table:
            if name not in allowed:
                raise self.fail(
                    f"{key}.{name}" if key else name, f"unknown key (expected one of: {', '.join(sorted(allowed))})"
                )

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value

    def label(self, value: Any, key: str) -> Label:
        table = self.table(value, key)
        self.keys(table, {"id", "en"}, key)
        return Label(self.string(table.get("id"), f"{key}.id"), self.string(table.get("en"), f"{key}.en"))

    def string_list(self, value: Any, key: str) -> list[str]:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a non-empty list of strings")
        return value

    def hooks(self, value: Any, key: str, known: dict[str, Any], kind: str) -> tuple[HookRef, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of {kind} names or tables")
        refs = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                name, params = item, {}
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                params = {k: v for k, v in item.items() if k != "name"}
                name = item["name"]
            else:
                raise self.fail(f"{key}[{i}]", f"must be a {kind} name or a table with a name")
            if name not in known:
                raise self.fail(f"{key}[{i}]", f"unknown {kind} {name!r} (known: {', '.join(sorted(known))})")
            refs.append(HookRef(name, params))
        return tuple(refs)


def parse(path: Path) -> Workflow:
    check = _Checker(path.name)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkflowError(f"{path.name}: not valid TOML: {exc}") from None
    check.keys(data, TOP_KEYS, "")
    name = check.string(data.get("name"), "name")
    if name != path.stem:
        raise check.fail("name", f"must match the file name ({path.stem!r})")
    title = check.label(data.get("title"), "title")

    states: dict[str, State] = {}
    for state_name, raw in check.table(data.get("states"), "states").items():
        key = f"states.{state_name}"
        if not NAME_RE.match(state_name):
            raise check.fail(key, "state names are lower_case_words")
        table = check.table(raw, key)
        check.keys(table, STATE_KEYS, key)
        uploads = table.get("uploads", [])
        if not isinstance(uploads, list) or not all(isinstance(k, str) for k in uploads):
            raise check.fail(f"{key}.uploads", "must be a list of attachment kinds")
        for i, kind in enumerate(uploads):
            if kind not in ATTACHMENT_KINDS:
                raise check.fail(
                    f"{key}.uploads[{i}]", f"unknown attachment kind {kind!r} (known: {', '.join(ATTACHMENT_KINDS)})"
                )
        states[state_name] = State(
            name=state_name,
            label=check.label(table.get("label"), f"{key}.label"),
            terminal=bool(table.get("terminal", False)),
            holds_grant=bool(table.get("holds_grant", False)),
            editable=bool(table.get("editable", False)),
            uploads=tuple(uploads),
        )
    if not states:
        raise check.fail("states", "declare at least one state")
    initial = check.string(data.get("initial"), "initial")
    if initial not in states:
        raise check.fail("initial", f"unknown state {initial!r}")

    actions: dict[str, Action] = {}
    for action_name, raw in check.table(data.get("actions"), "actions").items():
        key = f"actions.{action_name}"
        if not NAME_RE.match(action_name):
            raise check.fail(key, "action names are lower_case_words")
        table = check.table(raw, key)
        check.keys(table, ACTION_KEYS, key)
        from_states = check.string_list(table.get("from"), f"{key}.from")
        for i, s in enumerate(from_states):
            if s not in states:
                raise check.fail(f"{key}.from[{i}]", f"unknown state {s!r}")
        to = check.string(table.get("to"), f"{key}.to")
        if to not in states:
            raise check.fail(f"{key}.to", f"unknown state {to!r}")
        if "roles" not in table or not table["roles"]:
            raise check.fail(f"{key}.roles", "an action needs at least one role")
        roles = check.string_list(table.get("roles"), f"{key}.roles")
        for i, role in enumerate(roles):
            if role not in ROLES:
                raise check.fail(f"{key}.roles[{i}]", f"unknown role {role!r} (known: {', '.join(ROLES)})")
        body: list[BodyField] = []
        for field_name, spec in check.table(table.get("body", {}), f"{key}.body").items():
            fkey = f"{key}.body.{field_name}"
            spec = check.table(spec, fkey)
            check.keys(spec, FIELD_KEYS, fkey)
            ftype = spec.get("type")
            if ftype not in FIELD_TYPES:
                raise check.fail(f"{fkey}.type", f"unknown field type {ftype!r} (known: {', '.join(FIELD_TYPES)})")
            body.append(
                BodyField(field_name, ftype, bool(spec.get("required", True)), int(spec.get("max_length", 4000)))
            )
        style = table.get("style", "primary")
        if style not in ("primary", "secondary", "danger"):
            raise check.fail(f"{key}.style", "must be primary, secondary or danger")
        actions[action_name] = Action(
            name=action_name,
            label=check.label(table.get("label"), f"{key}.label"),
            from_states=tuple(from_states),
            to=to,
            roles=tuple(roles),
            body=tuple(body),
            guards=check.hooks(table.get("guards"), f"{key}.guards", registry.GUARDS, "guard"),
            effects=check.hooks(table.get("effects"), f"{key}.effects", registry.EFFECTS, "effect"),
            style=style,
        )

    # Every state must be reachable from the initial one.
    reached, queue = {initial}, deque([initial])
    while queue:
        current = queue.popleft()
        for action in actions.values():
            if current in action.from_states and action.to not in reached:
                reached.add(action.to)
                queue.append(action.to)
    for state_name in states:
        if state_name not in reached:
            raise check.fail(f"states.{state_name}", f"unreachable from the initial state {initial!r}")

    rubric: list[Criterion] = []
    raw_rubric = data.get("rubric", [])
    if not isinstance(raw_rubric, list):
        raise check.fail("rubric", "must be an array of tables ([[rubric]])")
    seen: set[str] = set()
    for i, raw in enumerate(raw_rubric):
        key = f"rubric[{i}]"
        table = check.table(raw, key)
        check.keys(table, {"criterion", "label", "weight"}, key)
        criterion = check.string(table.get("criterion"), f"{key}.criterion")
        if not NAME_RE.match(criterion) or criterion in seen:
            raise check.fail(f"{key}.criterion", "must be a unique lower_case_word")
        seen.add(criterion)
        weight = table.get("weight")
        if not isinstance(weight, int) or isinstance(weight, bool) or weight <= 0:
            raise check.fail(f"{key}.weight", "must be a positive whole number")
        rubric.append(Criterion(criterion, check.label(table.get("label"), f"{key}.label"), weight))
    if rubric and sum(c.weight for c in rubric) != 100:
        raise check.fail("rubric", f"weights must add up to 100, not {sum(c.weight for c in rubric)}")

    tranches: list[TranchePlan] = []
    raw_tranches = data.get("tranches", [])
    if not isinstance(raw_tranches, list):
        raise check.fail("tranches", "must be an array of tables ([[tranches]])")
    shares: dict[str, int] = {}
    for i, raw in enumerate(raw_tranches):
        key = f"tranches[{i}]"
        table = check.table(raw, key)
        check.keys(table, {"component", "share", "condition", "periods"}, key)
        component = check.string(table.get("component"), f"{key}.component")
        if component not in COMPONENTS:
            raise check.fail(f"{key}.component", f"unknown component {component!r} (known: {', '.join(COMPONENTS)})")
        share, periods = table.get("share"), table.get("periods", 1)
        if not isinstance(share, int) or isinstance(share, bool) or not 1 <= share <= 100:
            raise check.fail(f"{key}.share", "must be a whole percentage from 1 to 100")
        if not isinstance(periods, int) or isinstance(periods, bool) or not 1 <= periods <= 24:
            raise check.fail(f"{key}.periods", "must be a whole number from 1 to 24")
        cond = check.string(table.get("condition"), f"{key}.condition")
        if cond not in registry.CONDITIONS:
            raise check.fail(
                f"{key}.condition", f"unknown condition {cond!r} (known: {', '.join(sorted(registry.CONDITIONS))})"
            )
        shares[component] = shares.get(component, 0) + share
        tranches.append(TranchePlan(component, share, cond, periods))
    for component, total in shares.items():
        if total != 100:
            raise check.fail("tranches", f"the shares of {component} add up to {total}, not 100")
    if tranches and set(shares) != set(COMPONENTS):
        missing = ", ".join(c for c in COMPONENTS if c not in shares)
        raise check.fail("tranches", f"say how every component is paid out (missing: {missing})")

    return Workflow(name, path.name, title, initial, states, actions, tuple(rubric), tuple(tranches))


_workflows: dict[str, Workflow] = {}


def load_all(directory: Path) -> dict[str, Workflow]:
    """Parse and validate every workflow; raises WorkflowError on the first problem."""
    registry.load_hooks()
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise WorkflowError(f"{directory}: no workflow files (*.toml)")
    loaded = {}
    for path in files:
        workflow = parse(path)
        loaded[workflow.name] = workflow
    _workflows.clear()
    _workflows.update(loaded)
    return loaded


def get(name: str) -> Workflow:
    if not _workflows:
        from tkm.core.settings import get_settings

        load_all(get_settings().workflows_dir)
    try:
        return _workflows[name]
    except KeyError:
        raise WorkflowError(f"unknown workflow {name!r}") from None


def names() -> list[str]:
    if not _workflows:
        from tkm.core.settings import get_settings

        load_all(get_settings().workflows_dir)
    return sorted(_workflows)


def startup(settings: Any) -> None:
    """Called by create_app (STARTUP_MODULES): a broken workflow file stops start-up."""
    load_all(settings.workflows_dir)
