"""Long-term care insurance (长期护理保险): assessment, entitlements, visits, settlement."""
