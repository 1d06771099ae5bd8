"""Writes of the messaging room: creating messages under the rules, and submitting them."""
