"""Deadlines, reminders and notifications (issue 5).

pending.py  who has what pending before a milestone (pure rules)
digest.py   one digest per recipient; escalations (pure)
render.py   the one sandboxed, autoescaping Jinja2 environment, Thai dates
fanout.py   loads the facts when a job fires and records each send in the outbox, once
channels.py delivers outbox rows: email (SMTP), webhook (HMAC-signed JSON); retries
inbox.py    the in-app inbox and the failed-delivery list for HR
scheduler.py APScheduler jobs (one per milestone and offset), the single active scheduler
"""
