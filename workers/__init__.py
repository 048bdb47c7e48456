"""Background work: the Celery app and tasks, and the ffmpeg media pipeline.

:mod:`workers.media` is plain Python over ffmpeg (no Celery, no database);
:mod:`workers.tasks` holds the thin Celery tasks and :mod:`workers.jobs` the
job bookkeeping (claiming, heartbeats, retries, recovery of dead jobs).
"""
