"""Référentiels: the shipped frameworks, their import, and browsing them."""
