"""Start the Procfile's processes with honcho, and stop them gracefully.

honcho runs each process in its own process group. On Ctrl-C it sends SIGTERM
to every group, and SIGKILL to any still running 5 s after the first process
stopped. Two changes:

- SIGTERM goes to the process itself (Procfile lines `exec` it), not its whole
  group: gunicorn and Celery then stop their own workers in order, letting a
  running task finish, instead of having them killed under their feet.
- 15 s before the SIGKILL: a Celery worker on the embedded filesystem broker
  needs about 8 s for a warm shutdown, at whose end it gives back the messages
  it had taken but not finished; killed earlier, it would lose them.

The SIGKILL still goes to the whole group, so nothing is ever left behind.
A closed terminal (SIGHUP) stops everything the same way as Ctrl-C.

Usage: python scripts/procfile.py start [honcho options]
"""

import os
import signal
import sys

import honcho.compat
import honcho.manager
from honcho.command import main


def _terminate(self, pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass


honcho.compat.ProcessManager.terminate = _terminate
honcho.manager.KILL_WAIT = 15

if __name__ == "__main__":
    # honcho handles SIGTERM; without this a hang-up would kill honcho alone
    # and leave the processes (each in its own session) running.
    signal.signal(signal.SIGHUP, lambda signum, frame: os.kill(os.getpid(), signal.SIGTERM))
    sys.argv[0] = "honcho"
    sys.exit(main())
