"""Serving a node in production: the web server, the other process roles, health, metrics and logs."""
