"""Home elderly care (居家养老): households, elders, families, butlers."""
