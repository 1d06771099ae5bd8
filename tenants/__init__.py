"""Users, organizations (tenants), memberships, API keys and sign-in."""
