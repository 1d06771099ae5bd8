"""A local stand-in for Twilio's REST API for development, tests and benchmarks. It knows only
Twilio's contract and imports nothing of ours.
"""
