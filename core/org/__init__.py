"""Org units and people: the tenant-admin pages and the services behind them."""
