"""Auditor access that ends: the invitation, and the one page of what the school sends."""
