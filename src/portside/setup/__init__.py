"""Layer 6, set-up and tear-down: the course images (present, pulled or built as stand-ins), ``doctor``, ``cleanup``,
``reset`` (what the lessons left in this namespace)."""
