"""The HTTP edge: JSON API and pages. Calls the workflow services; holds no rules."""
