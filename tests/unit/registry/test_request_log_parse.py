"""portside.registry.request_log: registry:2 access-log lines parsed and tidied (no engine)."""

from __future__ import annotations

from portside.registry.request_log import Request, parse_access_log

LINE = ('172.17.0.1 - - [26/Nov/2026:21:49:58 +0000] "PUT /v2/ada/myapp/blobs/uploads/'
        '4da17a8f-a3ad-4cd3-8dbf-213853ffef8d?_state=abc&digest=sha256%3A' + "a" * 64 + ' HTTP/1.1" 201 0 "" "docker"')


def test_parse_tidies_upload_ids_and_keeps_the_digest() -> None:
    text = "time=... level=info msg=\"response completed\"\n" + LINE + "\n"
    assert parse_access_log(text) == [Request("PUT", "/v2/ada/myapp/blobs/uploads/<upload>?digest=sha256:" + "a" * 64,
                                              201)]
    named = parse_access_log(LINE)[0].named({"sha256:" + "a" * 64: "<layer 1>"})
    assert named.path.endswith("?digest=<layer 1>") and named.meaning.startswith("finish")
