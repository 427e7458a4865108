"""insurance: OSAGO, KASKO, life and health quotes, policies and claims."""
