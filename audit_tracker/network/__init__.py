"""The network's view across schools: the référent réseau's page."""
