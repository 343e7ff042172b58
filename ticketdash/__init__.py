"""Ticket Dash core shared by the watcher, the dashboard and the light: config, store, rules."""
