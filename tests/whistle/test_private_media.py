"""Feedback attachments are private: only the access-checked views serve them, to whoever may see the task."""

from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views.static import serve
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.config.test_security import _run
from tests.whistle.lifecycle import MONDAY_10, routed
from whistle.models import Task
from whistle.services import task_check_in, task_close

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def attachment(cast):
    with time_machine.travel(MONDAY_10, tick=False):
        whistle = routed(cast)
        task = Task.objects.get(whistle=whistle, department=cast.d12)
        task_check_in(task=task, actor=cast.d12_staff)
        feedback = task_close(
            task=task,
            actor=cast.d12_staff,
            actions="已清理",
            result="solved",
            files=[SimpleUploadedFile("现场.png", PNG)],
        )
    return feedback.attachments.get()


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_a_user_of_another_unit_gets_404_from_the_page_and_the_api(client, cast, attachment):
    page = reverse("whistle:attachment", args=[attachment.pk])
    download = f"/api/v1/attachments/{attachment.pk}/"

    client.force_login(cast.d12_staff)
    assert client.get(page).status_code == 200
    assert api(cast.d12_staff).get(download).status_code == 200
    for outsider in (cast.d13_staff, cast.t01_staff, cast.s02_staff, cast.s02_dispatcher, cast.outsider):
        client.force_login(outsider)
        assert client.get(page).status_code == 404, outsider
        assert api(outsider).get(download).status_code == 404, outsider


def test_the_files_lie_in_the_private_folder_outside_every_public_one(attachment):
    stored = Path(storages["private"].path(attachment.file.name)).resolve()

    assert stored.read_bytes() == PNG
    assert stored.is_relative_to(settings.PRIVATE_MEDIA_ROOT)
    for public in (settings.STATIC_ROOT, *settings.STATICFILES_DIRS, settings.MEDIA_ROOT):
        assert not stored.is_relative_to(Path(public).resolve()), public


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_no_url_serves_a_folder_of_files():
    serving = [pattern for pattern, view in _patterns(get_resolver()) if getattr(view, "__wrapped__", view) is serve]

    assert serving == []


def test_no_address_reaches_the_stored_file_directly(client, cast, attachment):
    client.force_login(cast.d12_staff)
    name = attachment.file.name  # attachments/2026/03/<uuid>.png
    relative = Path(settings.PRIVATE_MEDIA_ROOT).relative_to(settings.VAR_DIR)
    for address in (
        f"/{name}",
        f"/media/{name}",
        f"/private/{name}",
        f"/{relative}/{name}",
        f"/static/{name}",
        f"/static/../{relative}/{name}",
        f"/static/%2e%2e/{relative}/{name}",
    ):
        response = client.get(address)
        assert response.status_code in (400, 404), address
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert PNG not in body, address


def test_a_private_folder_inside_a_public_one_stops_the_process(tmp_path):
    result = _run(tmp_path, "-c", "import django; django.setup()", PRIVATE_MEDIA_ROOT=str(tmp_path / "static" / "x"))

    assert result.returncode != 0
    assert "PRIVATE_MEDIA_ROOT=" in result.stderr and "must not lie inside" in result.stderr
