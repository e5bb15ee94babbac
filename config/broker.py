"""kombu's file transport (the embedded default broker), writing each message atomically.

kombu's own transport creates the message file, locks it, then writes it.
A worker polling the folder does not look at the lock: it may move and read
a file still empty, and it dies of the JSON error ("Unrecoverable error").
Here a message is written under a temporary name the reader ignores and
renamed into place, so readers only ever see whole files. config.celery
makes `filesystem://` mean this transport.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # The reader takes only names ending in ".<queue>.msg": this one it skips until the rename.
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "wb", buffering=0) as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)  # atomic within one file system
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
