"""Request and response bodies of the API, kept apart from each other and from the domain."""
