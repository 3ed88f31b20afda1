"""The embedded engines (PostgreSQL, Redis, Tansu) that `turnout dev` and the tests run."""
