from support import content  # noqa: F401  (package-scoped: the real content, for the tests that ask for it)
