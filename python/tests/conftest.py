"""Shared by the Python tests: the package from the build tree (CTest sets PYTHONPATH) and the
command line tool built beside it (CTest sets BACKPROP_CLI)."""
import os
import shutil

import pytest


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("BACKPROP_CLI") or shutil.which("backprop")
    if not path or not os.path.exists(path):
        pytest.fail("the backprop command line tool was not found: set BACKPROP_CLI (CTest does)")
    return path
