"""Qualification files on S3 (boto3 through django-storages) against a local S3-compatible
server (moto in server mode, on loopback): private objects, served only through our view."""

import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from core import storage as core_storage
from saas_platform.review import actions, storage
from tests.conftest import free_port, stop_processes, wait_ready
from tests.review.conftest import PDF


@pytest.fixture
def s3_server(tmp_path):
    port = free_port()
    log = tmp_path / "moto.log"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # Any answer will do; a refused connection or a read timeout means "not yet".
        wait_ready(lambda: requests.get(url, timeout=5) is not None, what="moto_server", procs=[proc], logs=[log])
        s3 = boto3.client(
            "s3", endpoint_url=url, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )
        s3.create_bucket(Bucket="fenxiao-test")
        yield url, s3
    finally:
        stop_processes([proc])


def test_qualification_files_live_privately_in_s3(s3_server, food_store, reviewer):
    url, s3 = s3_server
    inner = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "fenxiao-test",
            "endpoint_url": url,
            "access_key": "test",
            "secret_key": "test",
            "region_name": "us-east-1",
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
    with override_settings(TENANT_INNER_STORAGE=inner):
        core_storage.reset_backend()  # rebuild the backend from the new settings
        try:
            doc = actions.submit_document(
                tenant=food_store, kind="business_licence", upload=SimpleUploadedFile("l.pdf", PDF, "application/pdf")
            )
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket="fenxiao-test").get("Contents", [])]
            assert keys == [doc.file_key]
            assert doc.file_key.startswith(f"tenants/{food_store.schema_name}/qualifications/")
            # Private: the object carries no public-read grant.
            grants = s3.get_object_acl(Bucket="fenxiao-test", Key=doc.file_key)["Grants"]
            assert not any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in grants)
            staff = Client()
            staff.force_login(reviewer)
            link = "/review-files/?t=" + storage.link_token(doc.pk, food_store.schema_name)
            served = staff.get(link, HTTP_HOST="localhost")
            assert served.status_code == 200
            assert b"".join(served.streaming_content) == PDF
        finally:
            core_storage.reset_backend()
