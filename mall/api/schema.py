def only_api_paths(endpoints, **kwargs):
    """Keep the public API in the OpenAPI schema (Wagtail's internal API stays out)."""
    return [e for e in endpoints if e[0].startswith("/api/")]
