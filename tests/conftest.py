import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # the independent reference implementation


def pytest_collection_modifyitems(config, items):
    """Timing assertions run only when asked for by name (`pytest -m timing`): any other
    marker expression, such as `-m "not slow"`, leaves them out."""
    import pytest

    if "timing" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="asserts a timing: opt in with `pytest -m timing`")
    for item in items:
        if "timing" in item.keywords:
            item.add_marker(skip)
