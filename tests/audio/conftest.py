"""Shared fixtures for the audio tests."""

import warnings

import pytest


@pytest.fixture(scope="session")
def audioop():
    """The stdlib reference (deprecated in 3.11, gone in 3.13): skip when it is missing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import audioop as module
        except ImportError:
            pytest.skip("audioop is not available")
    return module
