"""The watcher: mirrors a helpdesk's active tickets into the tickets/ folder."""
