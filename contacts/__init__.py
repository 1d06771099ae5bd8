"""Contacts, tags, and the consent ledger with the do-not-text list."""
