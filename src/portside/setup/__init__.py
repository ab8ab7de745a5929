"""Layer 6, set-up and tear-down: the course images (present, pulled or built as stand-ins), ``doctor``, ``cleanup``,
``reset`` (what the lessons left in this namespace), ``wheelhouse`` (the course's Python wheels, locked by hash,
for the course image and the offline kit), ``course_image/``."""
