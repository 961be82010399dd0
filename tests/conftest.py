"""Shared fixtures: warehouses built from the example submissions, empty workspaces."""

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from support import EXAMPLE_SUBMISSIONS, NO_SETTLE_TIME, make_settings, run_steps

from hikikomori.settings import Settings

pytest_plugins = ("portal_support",)  # the portal's fixtures


def pytest_configure(config: pytest.Config) -> None:
    """Before test modules are imported, so the environments they copy for the CLI include it.

    Django is configured here (pytest-django then sets it up) for the portal's tests: an in-memory
    test database; each test points the portal at its own folders (``portal_settings``).
    """
    for name, value in NO_SETTLE_TIME.items():
        os.environ.setdefault(name, value)
    from django.conf import settings as django

    from hikikomori.portal.config import django_settings

    root = tempfile.mkdtemp(prefix="hikikomori-portal-tests-")
    config.add_cleanup(lambda: shutil.rmtree(root, ignore_errors=True))
    django.configure(**django_settings(make_settings(Path(root))))


@pytest.fixture(scope="session")
def example_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse built once from the bundled example submissions."""
    settings = make_settings(tmp_path_factory.mktemp("examples"))
    shutil.copytree(EXAMPLE_SUBMISSIONS, settings.inbox_dir)
    run_steps(settings, quality_gate=True)
    return settings.warehouse_path


@pytest.fixture
def workspace(tmp_path: Path) -> Settings:
    """Empty inbox and warehouse locations for one test."""
    settings = make_settings(tmp_path)
    settings.inbox_dir.mkdir(parents=True)
    return settings


@pytest.fixture
def copy_examples() -> Callable[[Settings], None]:
    def copy(settings: Settings) -> None:
        shutil.copytree(EXAMPLE_SUBMISSIONS, settings.inbox_dir, dirs_exist_ok=True)

    return copy
