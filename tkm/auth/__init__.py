"""Users, roles, log-in (session cookie or bearer token), CSRF, throttling."""
