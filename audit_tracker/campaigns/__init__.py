"""Label campaigns: frameworks, milestones and their countdown, governance meetings."""
