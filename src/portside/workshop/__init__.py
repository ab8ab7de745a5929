"""Layer 12, a workshop: what serves a room of learners on top of the labs.

* :mod:`~portside.workshop.kit` — the offline kit: every course image (saved by digest), the tools, the Python
  wheels and the course itself in one folder with a manifest of hashes (``portside kit build|install``);
* :mod:`~portside.workshop.board` — the progress board: each lab's checkers run against each learner's namespace
  in the room registry (``portside workshop status``, the instructor notebook's widget).
"""
