"""Helpers of the browser tests: the Chinese the pages show, and waiting for the live worker."""

from django.utils import translation

from tests.live_worker import wait_until, worker_log

# Every user has this password (tests.factories.UserFactory).
PASSWORD = "demo-pass-2026"


def zh(message: str) -> str:
    """The Chinese the pages show for an English message (the catalogue's translation)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def zh_label(choice) -> str:
    """The Chinese label of a model choice (e.g. Whistle.Status.ROUTED)."""
    with translation.override("zh-hans"):
        return str(choice.label)


def wait_for_whistle(number: str, statuses, live_worker: str, *, what: str):
    """Wait for the live worker to move the whistle into one of `statuses`; returns the whistle."""
    from whistle.models import Whistle

    def moved():
        whistle = Whistle.objects.filter(number=number).first()
        return whistle if whistle is not None and whistle.status in statuses else None

    try:
        return wait_until(moved, what=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nworker log:\n{worker_log(live_worker)}") from None
