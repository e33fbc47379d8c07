"""Deadlines, reminders and notifications.

pending.py   who has what pending before a milestone (pure rules over plain data)
digest.py    one digest per recipient; overdue and escalation digests (pure)
render.py    the one sandboxed, autoescaping Jinja2 environment, Thai dates; templates/
fanout.py    a reminder or overdue run: load the facts, decide, record each send in the outbox once
channels.py  channel switches; delivery by email (SMTP) and webhook (HMAC-signed JSON), retries
inbox.py     the in-app inbox, the deliveries HR must look at, the organisation's webhook
scheduler.py the periodic jobs that ask what is due now (reminders, deliver, housekeeping), one active
clock.py     the injectable clock; cli.py the commands (settings: workflow/settings.py)
"""
