"""The seeder (`python -m seed.generate`): twelve months of subscriptions, billing and viewing. See issue 3."""
