"""Layer 12, a workshop: what serves a room of learners on top of the labs.

* :mod:`~portside.workshop.kit` — the offline kit: the course's files, its Python wheels (locked by sha256), every
  course image (``docker save``, by digest), the tools with their install records, Trivy's database and the demo
  app's wheels in one folder with a manifest of sha256 and sizes; ``install.sh`` starts a bare machine
  (``portside kit build|install|seed``; ``kit.seed.seed(kit_dir, endpoint)`` fills the room registry's ``course/…``);
* :mod:`~portside.workshop.board` — the progress board: each lab's checkers run against each learner's namespace
  in the room registry (``portside workshop status``, the instructor notebook's widget).
"""
