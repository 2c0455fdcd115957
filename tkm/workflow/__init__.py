"""The workflow engine: programme workflows are data (workflows/*.toml), validated at start-up.

``definition`` holds the parsed shape, ``loader`` reads and validates files,
``registry`` is where domains register named guards and effects, ``engine``
runs one transition in one transaction.
"""
