"""The money state machine of test_money_stateful.py, on PostgreSQL (see that module)."""

from __future__ import annotations

import pytest

from tests.integration.test_money_stateful import people, test_the_money_model_holds_on_random_walks

__all__ = ["people", "test_the_money_model_holds_on_random_walks"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def database(postgres_database):
    return postgres_database
