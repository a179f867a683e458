"""Accounts: login, roles, API tokens."""
