"""Documents an office prints, signs and files: PDFs laid out by Typst templates from JSON data.

``render(kind, data)`` compiles one template (``templates/<kind>.typ``, or the organisation's
own of the same name in ``PMFLOW_TEMPLATES_DIR``); ``round_forms(session_or_engine, round_id,
on_progress=...)`` renders a round's summary forms, in worker processes for large rounds.
"""
from workflow.documents.render import TemplateError, check_templates, render
from workflow.documents.rounds import round_forms

__all__ = ["TemplateError", "check_templates", "render", "round_forms"]
