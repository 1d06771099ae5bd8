"""Writes of the connections room: verifying Twilio details, and the connection's life."""
