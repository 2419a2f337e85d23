"""The pure domain core: stages, business calendar, SLA health, filing records.

Standard library and the calendar library only; time is always a parameter.
"""
