"""What every area shares about refusing: one family of errors the user reads, one conflict."""
