"""Findings of visits and audits, corrective actions, deadlines, meetings and the calendar."""
