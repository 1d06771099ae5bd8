"""Writes of the tenants room, by concern: organizations, members, API keys, sign-in."""
