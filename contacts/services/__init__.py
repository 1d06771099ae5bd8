"""Writes of the contacts room: phones, contacts, tags and consent."""
