"""One module per tab of the web app; each exposes build(svc, ...) and returns the components others need."""
