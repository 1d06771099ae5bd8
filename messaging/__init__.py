"""Messages and their events, the send service and its rules, the send task, webhooks and the
sweeper.
"""
