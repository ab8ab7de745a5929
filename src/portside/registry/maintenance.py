"""Work inside a running registry container: garbage collection (then a restart in place) and disk usage.

Both take any ``WaitStrategyTarget``: a :class:`~portside.registry.Registry`, or a
registry container found by label wrapped in :class:`~portside.registry.readiness.ContainerTarget`.
"""

from __future__ import annotations

from testcontainers.core.waiting_utils import WaitStrategy, WaitStrategyTarget

from portside.errors import RegistryError
from portside.registry.layout import CONFIG_PATH, DATA_PATH, STORE
from portside.registry.logs import readable_log
from portside.registry.readiness import wait_ready

__all__ = ["NOTHING_TO_COLLECT", "UPLOADS", "disk_usage", "garbage_collect", "purge_uploads", "run_in",
           "unfinished_uploads"]

#: what :func:`garbage_collect` reports for a registry that has stored nothing yet
NOTHING_TO_COLLECT = "Nothing to collect: the registry has not stored any repository yet.\n"


def run_in(target: WaitStrategyTarget, command: list[str], what: str) -> str:
    """Run ``command`` in the registry container; its output, or :class:`RegistryError` with the last lines."""
    result = target.get_wrapped_container().exec_run(command)
    output = bytes(result.output or b"").decode(errors="replace")
    if result.exit_code != 0:
        tail = "\n  ".join(output.strip().splitlines()[-8:])
        raise RegistryError(f"{what} failed in the registry container (exit {result.exit_code}):\n  {tail}")
    return output


def garbage_collect(target: WaitStrategyTarget, address: str, *, tls: bool, dry_run: bool = False,
                    delete_untagged: bool = False, ready: WaitStrategy | None = None) -> str:
    """Run ``registry garbage-collect``, then restart the registry in place and wait for it. Returns its report.

    The restart clears the registry's in-memory cache of which blobs exist, as the
    registry's documentation asks after a collection (a dry run changes nothing and
    needs none). ``ready`` is the wait strategy for the restart (default: ``RegistryReady``).
    """
    command = ["registry", "garbage-collect"]
    if dry_run:
        command.append("--dry-run")
    if delete_untagged:
        command.append("--delete-untagged")
    container = target.get_wrapped_container()
    result = container.exec_run([*command, CONFIG_PATH])
    output = bytes(result.output or b"").decode(errors="replace")
    if result.exit_code != 0 and "Path not found" in output and "/repositories" in output:
        return NOTHING_TO_COLLECT
    if result.exit_code != 0:
        tail = "\n  ".join(readable_log(output)[-8:])
        raise RegistryError(f"registry garbage-collect failed (exit {result.exit_code}):\n  {tail}")
    if not dry_run:
        container.restart(timeout=2)
        wait_ready(target, address, tls=tls, strategy=ready)
    return output


def disk_usage(target: WaitStrategyTarget) -> int:
    """Bytes stored under ``/var/lib/registry`` (apparent size, measured with ``du`` in the container)."""
    output = run_in(target, ["busybox", "du", "-s", "-b", DATA_PATH], "du")
    return int(output.split()[0])


#: where registry:2 keeps the uploads in progress (one ``_uploads/<id>`` folder each, under the repository)
UPLOADS = f"{STORE}/repositories"


def unfinished_uploads(target: WaitStrategyTarget) -> list[str]:
    """The folders of unfinished uploads in the registry (what its purger removes only after 168 h)."""
    # an empty registry has no such folder, and an upload that finishes meanwhile takes its folder with it:
    # find's complaints about vanished folders are not failures
    script = (f'[ -d {UPLOADS} ] || exit 0; '
              f'busybox find {UPLOADS} -type d -path "*/_uploads/*" -prune 2>/dev/null; exit 0')
    output = run_in(target, ["busybox", "sh", "-c", script], "find")
    return [line.strip() for line in output.splitlines() if line.strip().startswith(UPLOADS)]


def purge_uploads(target: WaitStrategyTarget) -> int:
    """Remove every unfinished upload (an upload in flight goes too: its client fails and retries). Returns how many.

    A push that failed for lack of space leaves its bytes in an upload folder that no client can cancel;
    registry:2's own purger removes them only after a week (``storage.maintenance.uploadpurging``, 168 h).
    """
    folders = unfinished_uploads(target)
    if folders:
        run_in(target, ["busybox", "rm", "-rf", *folders], "rm")
    return len(folders)

