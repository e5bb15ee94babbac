import pytest


@pytest.fixture(autouse=True)
def tally_counted_at_every_read(settings):
    """Every ranking counts its months again: tests change the facts between readings.

    The tally's own rules (kept while young enough, counted by beat) are tested in test_tally.py.
    """
    settings.EVALUATION_TALLY_MAX_AGE_S = 0
