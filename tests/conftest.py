"""Fixtures shared by the unit tests."""

import pytest

from _small_models import one_thread as _one_thread


@pytest.fixture(scope="module")
def one_thread_module():
    """Train this module's tiny models on one thread (see _small_models.one_thread); modules opt in with
    `pytestmark = pytest.mark.usefixtures("one_thread_module")`."""
    with _one_thread():
        yield
