"""Deadlines, reminders and notifications.

pending.py   who has what pending before a milestone (pure rules over plain data)
digest.py    one digest per recipient; overdue and escalation digests (pure)
render.py    the one sandboxed, autoescaping Jinja2 environment, Thai dates; templates/
fanout.py    when a job fires: load the facts, decide, record each send in the outbox once
channels.py  channel switches; delivery by email (SMTP) and webhook (HMAC-signed JSON), retries
inbox.py     the in-app inbox, and the deliveries HR must look at
scheduler.py APScheduler jobs (one per milestone and offset), the single active scheduler
clock.py     the injectable clock; settings.py the SMTP/webhook settings; cli.py the commands
"""
