"""Celery beat's own scheduler, running a few of the project's periodic jobs every few seconds.

The project's schedule (settings.CELERY_BEAT_SCHEDULE) runs the re-enqueue
job and the deadline sweep every minute, which is too slow for a test to
watch several rounds. `celery beat -S tests.faults.fast_beat:FastScheduler`
keeps the jobs named in FAULTS_BEAT_JOBS (comma-separated schedule names),
with their tasks and options, every FAULTS_BEAT_EVERY_S seconds, and leaves
out the others. Everything else is beat as deployed: the persistent schedule
file, the broker connection and its retries.
"""

import os

from celery.beat import PersistentScheduler


class FastScheduler(PersistentScheduler):
    def setup_schedule(self):
        every = float(os.environ["FAULTS_BEAT_EVERY_S"])
        jobs = set(os.environ["FAULTS_BEAT_JOBS"].split(","))
        schedule = self.app.conf.beat_schedule
        unknown = jobs - set(schedule)
        if unknown:
            raise ValueError(f"FAULTS_BEAT_JOBS names no job of the schedule: {sorted(unknown)}")
        self.app.conf.beat_schedule = {name: {**schedule[name], "schedule": every} for name in sorted(jobs)}
        super().setup_schedule()
