"""Connections to outside providers (Twilio first), their encrypted credentials, and the only code
that calls Twilio's REST API.
"""
