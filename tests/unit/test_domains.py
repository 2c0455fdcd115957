"""Each domain is described once (its domain.py) and listed once (tkm/domains.py); everything reads that list."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tkm import domains
from tkm.core.domain import resolve

ROOT = Path(__file__).resolve().parents[2]


def test_every_part_a_domain_names_exists():
    names = [d.name for d in domains.DOMAINS]
    assert len(names) == len(set(names))
    for domain in domains.DOMAINS:
        for ref in (*domain.routes, *domain.startup, *(target for _label, target in domain.checks)):
            assert resolve(ref) is not None, ref
        for panel in domain.panels:
            assert callable(panel.loader()), panel
            assert (ROOT / "templates" / panel.template).exists(), panel.template
        for module in (domain.tables, domain.tasks, domain.hooks):
            if module:
                __import__(module)


def test_every_domain_package_is_listed():
    """A package with tables, routes or hooks of its own must be in the list (or its parts reach nobody)."""
    listed = {d.tables for d in domains.DOMAINS} | {d.hooks for d in domains.DOMAINS}
    for tables in (ROOT / "tkm").glob("*/tables.py"):
        assert f"tkm.{tables.parent.name}.tables" in listed, tables
    for hooks in (ROOT / "tkm").glob("*/hooks.py"):
        assert f"tkm.{hooks.parent.name}.hooks" in listed, hooks
    assert not list((ROOT / "tkm").glob("*/routes.py")), "routes are listed in the domain's domain.py"


def test_the_app_piccolo_celery_and_the_menu_read_the_list():
    from tkm.piccolo_app import APP_CONFIG
    from tkm.web import nav
    from tkm.worker import celery_app

    tables = {t._meta.tablename for t in APP_CONFIG.table_classes}
    assert {"history_events", "tranches", "reports", "applications", "documents"} <= tables
    assert set(domains.task_modules()) <= set(celery_app.conf.include)
    assert [item.href for item in nav.all_items()] == [item.href for item in domains.nav_items()]
    assert {p.template for p in nav.all_panels()} == {
        "amendments/_panel.html",
        "disbursement/_panel.html",
        "documents/_panel.html",
        "partials/panel.html",
        "reports/_panel.html",
    }


def test_the_navigation_does_not_import_the_app():
    code = "import sys, tkm.web.nav; sys.exit(1 if 'tkm.app' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT).returncode == 0
