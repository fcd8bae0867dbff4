"""A tiny domain that lives outside `src/`: adding a domain needs only its own package."""
