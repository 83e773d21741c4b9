"""A Django REST Framework API, configured the way DRF's own documentation shows.

The gateway's tests front it with `examples/drf.toml` and nothing else: stock
`PageNumberPagination`, `TokenAuthentication`, django-filter, `SearchFilter`,
`OrderingFilter`, a JSON-only parser, routers with trailing slashes. Nothing
here bends DRF toward restloom; what DRF lacks stays unsupported in the profile.
"""
