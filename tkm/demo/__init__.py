"""The demo data set: `tkm demo` and the first `tkm run`."""
