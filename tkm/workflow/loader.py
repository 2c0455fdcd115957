"""Read the flows (workflows/*.toml for applications, workflows/flows/*.toml for tranches, reports, ...) and
validate them; every error names the file and the key."""

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

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*\Z")
TOP_KEYS = {"name", "title", "record", "initial", "created", "states", "actions", "rubric", "tranches"}
STATE_KEYS = {"label", "traits", "uploads"}
ACTION_KEYS = {"label", "from", "to", "roles", "body", "guards", "effects", "style", "internal"}
FIELD_KEYS = {"type", "required", "max_length", "not_future"}
#: Where the flows of records other than applications live, below the workflows directory.
FLOWS_DIR = "flows"


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


def _display_name(path: Path) -> str:
    """How errors name a file: ``tkm-pemula.toml``, ``flows/tranche.toml``."""
    return f"{FLOWS_DIR}/{path.name}" if path.parent.name == FLOWS_DIR else path.name


def parse(path: Path) -> Workflow:
    check = _Checker(_display_name(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkflowError(f"{_display_name(path)}: not valid TOML: {exc}") from None
    check.keys(data, TOP_KEYS, "")
    name = check.string(data.get("name"), "name")
    if name != path.stem:
        raise check.fail("name", f"must match the file name ({path.stem!r})")
    title = check.label(data.get("title"), "title")
    record = data.get("record", "application")
    if record not in registry.RECORDS:
        raise check.fail("record", f"unknown record kind {record!r} (known: {', '.join(sorted(registry.RECORDS))})")
    known_traits = registry.TRAITS.get(record, {})

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
        traits = table.get("traits", [])
        if not isinstance(traits, list) or not all(isinstance(t, str) for t in traits):
            raise check.fail(f"{key}.traits", "must be a list of trait names")
        for i, name_of_trait in enumerate(traits):
            if name_of_trait not in known_traits:
                raise check.fail(
                    f"{key}.traits[{i}]",
                    f"unknown trait {name_of_trait!r} for a {record} flow (known: {', '.join(sorted(known_traits))})",
                )
        if uploads and record != "application":
            raise check.fail(f"{key}.uploads", f"a {record} flow has no attachments")
        states[state_name] = State(
            name=state_name,
            label=check.label(table.get("label"), f"{key}.label"),
            traits=frozenset(traits),
            uploads=tuple(uploads),
        )
    if not states:
        raise check.fail("states", "declare at least one state")
    for required in (t for t in known_traits.values() if t.required):
        if not any(required.name in state.traits for state in states.values()):
            raise check.fail(
                "states", f"no state has the trait {required.name!r}, which the code needs ({required.meaning})"
            )
    initial = check.string(data.get("initial"), "initial")
    if initial not in states:
        raise check.fail("initial", f"unknown state {initial!r}")
    created_action, created_label = "create", None
    if "created" in data:
        created = check.table(data["created"], "created")
        check.keys(created, {"action", "label"}, "created")
        created_action = check.string(created.get("action"), "created.action")
        if not NAME_RE.match(created_action):
            raise check.fail("created.action", "action names are lower_case_words")
        created_label = check.label(created.get("label"), "created.label")

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
                BodyField(
                    field_name,
                    ftype,
                    bool(spec.get("required", True)),
                    int(spec.get("max_length", 4000)),
                    bool(spec.get("not_future", False)),
                )
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
            internal=bool(table.get("internal", False)),
        )
        if action_name == created_action:
            raise check.fail(key, f"{action_name!r} is the name of the creation event (created.action)")

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

    if record != "application":
        for key in ("rubric", "tranches"):
            if key in data:
                raise check.fail(key, f"only application flows have a {key}")
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

    return Workflow(
        name,
        _display_name(path),
        title,
        initial,
        states,
        actions,
        tuple(rubric),
        tuple(tranches),
        record=record,
        created_action=created_action,
        created_label=created_label,
    )


_workflows: dict[str, Workflow] = {}
_flows: dict[str, Workflow] = {}


def load_all(directory: Path) -> dict[str, Workflow]:
    """Parse and validate every flow; raises WorkflowError on the first problem.

    ``directory/*.toml`` are the programmes' application workflows; ``directory/flows/*.toml`` hold the one
    flow of each other record kind (tranche, report, ...). Returns the application workflows by name.
    """
    registry.load_hooks()
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise WorkflowError(f"{directory}: no workflow files (*.toml)")
    loaded: dict[str, Workflow] = {}
    for path in files:
        workflow = parse(path)
        if workflow.record != "application":
            raise WorkflowError(f"{path.name}: record: a {workflow.record} flow belongs in {FLOWS_DIR}/")
        loaded[workflow.name] = workflow
    flows: dict[str, Workflow] = {}
    for path in sorted((directory / FLOWS_DIR).glob("*.toml")):
        flow = parse(path)
        if flow.record == "application":
            raise WorkflowError(f"{FLOWS_DIR}/{path.name}: record: application workflows live in {directory.name}/")
        if flow.record in flows:
            raise WorkflowError(
                f"{FLOWS_DIR}/{path.name}: record: {flows[flow.record].file} is already the {flow.record} flow"
            )
        flows[flow.record] = flow
    for kind in sorted(registry.RECORDS):
        if kind != "application" and kind not in flows:
            raise WorkflowError(f"{directory / FLOWS_DIR}: no flow file for {kind} records (record = {kind!r})")
    _workflows.clear()
    _workflows.update(loaded)
    _flows.clear()
    _flows.update(flows)
    return loaded


def _ensure_loaded() -> None:
    if not _workflows:
        from tkm.core.settings import get_settings

        load_all(get_settings().workflows_dir)


def get(name: str) -> Workflow:
    """An application workflow by name (a programme's ``workflow``)."""
    _ensure_loaded()
    try:
        return _workflows[name]
    except KeyError:
        raise WorkflowError(f"unknown workflow {name!r}") from None


def names() -> list[str]:
    _ensure_loaded()
    return sorted(_workflows)


def flow(record: str) -> Workflow:
    """The one flow of a record kind other than applications (``tranche``, ``report``)."""
    _ensure_loaded()
    try:
        return _flows[record]
    except KeyError:
        raise WorkflowError(f"no flow for {record} records") from None


def all_flows() -> list[Workflow]:
    _ensure_loaded()
    return [*(_workflows[n] for n in sorted(_workflows)), *(_flows[k] for k in sorted(_flows))]


def states_with(record: str, trait: str) -> list[str]:
    """Every state name carrying ``trait`` in any flow of ``record`` (for SQL over records of all programmes)."""
    return sorted({s for f in all_flows() if f.record == record for s in f.states_with(trait)})


def startup(settings: Any) -> None:
    """A start-up check of the workflow domain: a broken workflow file stops start-up."""
    load_all(settings.workflows_dir)


def sql_list(states: list[str] | tuple[str, ...]) -> str:
    """State names as an SQL list, e.g. ``('active')``, for queries over records of every flow. Safe to inline:
    the loader admits only lower_case_words as state names."""
    if not states or not all(NAME_RE.match(s) for s in states):
        raise ValueError(f"not a list of state names: {states!r}")
    return "(" + ", ".join(f"'{s}'" for s in states) + ")"
