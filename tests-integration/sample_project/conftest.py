# Not part of the sample: this folder is a stand-alone project, run by
# tests-integration/test_sample_project.py as its own pytest session (with
# itself as rootdir).  When the monorepo's own session walks into it, it is
# skipped, since its configuration (pyproject.toml) would not apply.
from pathlib import Path

import pytest


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if config.rootpath != Path(__file__).parent:
        return True
    return None
