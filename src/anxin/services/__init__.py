"""Home services: the ten scenarios, providers, bookings (speaker included) and supervision."""
