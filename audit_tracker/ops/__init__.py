"""Running the application: what ``flask check`` and the ``/healthz`` / ``/readyz`` probes ask
of the database, the storage, the queue and the mail relay."""
