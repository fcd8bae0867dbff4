"""Supply-chain finance on IoT-watched stock: crane lifts, pledges, price marks and LTV."""
