"""The embedded broker's messages are whole files or invisible: a polling worker never reads half a message."""

import os
from queue import Empty

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError

import config.celery  # noqa: F401 - makes filesystem:// mean config.broker
from config.broker import Transport


@pytest.fixture
def channel(tmp_path):
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with Connection("filesystem://", transport_options=options) as connection:
        yield connection.default_channel


def test_filesystem_urls_use_the_atomic_transport(channel):
    assert isinstance(channel.connection, Transport)


def test_a_message_goes_in_whole_and_comes_out_whole(channel, tmp_path):
    channel._put("whistle", {"body": "路由"})

    assert [name.endswith(".whistle.msg") for name in os.listdir(tmp_path)] == [True]
    assert channel._get("whistle") == {"body": "路由"}


def test_a_message_being_written_is_not_read(channel, tmp_path):
    # What a reader sees while a writer is between open() and rename: an empty file under the temporary name.
    (tmp_path / ".1_x.whistle.msg.partial").write_bytes(b"")

    with pytest.raises(Empty):  # nothing to read yet, rather than a JSON error that kills the worker
        channel._get("whistle")


def test_a_folder_that_cannot_be_written_is_a_channel_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    options = {"data_folder_in": str(blocker / "in"), "data_folder_out": str(blocker / "in")}
    with Connection("filesystem://", transport_options=options) as connection:
        with pytest.raises(ChannelError):
            connection.default_channel._put("whistle", {"body": 1})
