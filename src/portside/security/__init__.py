"""Layer 8, security: advisories, the scanner and its gate, signatures, the Trivy database and its bbolt file."""
