from django.urls import path  # noqa: F401

# Customer-facing pages, mounted at /track/ (namespace "track").
public_patterns = []
# Staff console pages, mounted at /console/tracking/ (namespace "tracking").
console_patterns = []
