"""Console pages (server-rendered); a leaf that calls services only."""
