"""Pages of the tenants room, by concern."""
