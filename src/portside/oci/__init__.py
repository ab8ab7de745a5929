"""Layer 2, OCI: image references, the registry HTTP API client, the course's saved logins, a throwaway CA.

Pure protocol and files: nothing here needs a Docker engine.
"""
