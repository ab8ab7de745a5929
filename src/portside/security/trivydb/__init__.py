"""Real Trivy, offline: its vulnerability database built from the course's OSV advisories.

Trivy cannot scan for vulnerabilities without its database, which is normally
downloaded (daily) from the internet. This package writes that database from the
same OSV records :mod:`portside.security.scan` uses, so the real ``trivy image`` runs with
pinned data anywhere, and publishes it to a registry the way an air-gapped site
mirrors the official one::

    from portside import trivydb
    cache = trivydb.build(Path("trivy-cache"))           # db/trivy.db + db/metadata.json
    cache = trivydb.ensure()                             # or: the course's own, built once per snapshot
    report = trivydb.scan("myapp:vulnerable", cache_dir=cache)
    trivydb.found(report)                                  # {("h11", "GHSA-…"), …}
    print(trivydb.compare(report, portside.security.scan.scan("myapp:vulnerable")))   # agreement with the harness
    trivydb.publish("localhost:5000/trivy-db:2", cache)  # then: trivy --db-repository localhost:5000/trivy-db:2

Layers: :mod:`.layout` knows Trivy's buckets (not bbolt's bytes), :mod:`portside.security.bbolt`
knows bbolt's bytes (not Trivy), :mod:`.database` writes the files, :mod:`.artifact`
packs and pushes them, :mod:`.run` runs the real Trivy with them.
"""

from __future__ import annotations

from portside.security.trivydb.artifact import LAYER_MEDIA_TYPE, archive, publish
from portside.security.trivydb.database import Built, build, build_records, db_folder, ensure, metadata
from portside.security.trivydb.layout import Layout, convert
from portside.security.trivydb.run import Agreement, compare, found, harness_found, scan, vulnerabilities

__all__ = [
    "LAYER_MEDIA_TYPE",
    "Agreement",
    "Built",
    "Layout",
    "archive",
    "build",
    "build_records",
    "compare",
    "convert",
    "db_folder",
    "ensure",
    "found",
    "harness_found",
    "metadata",
    "publish",
    "scan",
    "vulnerabilities",
]
