"""kombu's transports as this platform runs them: file messages written whole, Redis that may go away.

The file transport (the embedded default broker) writes each message atomically.

kombu's own transport creates the message file, locks it, then writes it.
A worker polling the folder does not look at the lock: it may move and read
a file still empty, and it dies of the JSON error ("Unrecoverable error").
Here a message is written under a temporary name the reader ignores and
renamed into place, so readers only ever see whole files. config.celery
makes `filesystem://` mean this transport.
"""

import logging
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, redis
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


# Redis -------------------------------------------------------------------------------------
#
# When Redis goes away while a worker holds a message (acks_late: until the
# task finished), the worker closes its channel, and kombu's close hands the
# held messages back to Redis — through the connection that just died. The
# error ends the worker ("Unrecoverable error"), and under `make run` the whole
# stack with it. Nothing needs handing back: the messages stay in Redis's
# unacked set, and the next worker restores them after the visibility time-out
# (whistles stuck on the way are also called again by the requeue job). So the
# hand-back is skipped when Redis cannot be reached, and the worker
# reconnects when Redis is back.

logger = logging.getLogger(__name__)


class RedisQoS(redis.QoS):
    def restore_unacked(self, client=None):
        try:
            super().restore_unacked(client)
        except (*self.channel.connection_errors, AttributeError) as error:
            # AttributeError: kombu's pool is already torn down (its connection is None).
            logger.warning(
                "Redis is unreachable: %d held message(s) stay unacknowledged in Redis (%s)",
                len(self._delivered),
                error,
            )
            self._delivered.clear()


class RedisChannel(redis.Channel):
    QoS = RedisQoS


class RedisTransport(redis.Transport):
    Channel = RedisChannel
