"""Automations (trigger + Twilio SMS action) and their runs."""
