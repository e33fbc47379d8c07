"""The composition: every workflow kind built and registered with the engine, and the hooks
that wire one kind to another, in one place a reader can see.

The app, the CLI and the scheduler import this module; the engine itself knows no kind, and
firing an event before this module is imported is an error, never a silent skip of a hook.
"""
from __future__ import annotations

from workflow import agency_assessments, appraisals, cases, engine

APPRAISAL = engine.register(appraisals.kind())
CASE = engine.register(cases.kind())
AGENCY_ASSESSMENT = engine.register(agency_assessments.kind())

# An announced appraisal opens a low-performer case, or moves the person's open one.
APPRAISAL.on_enter["announced"] = [cases.on_appraisal_announced]

KINDS = engine.KINDS
