"""The S3 backup level, in one place: key layout, writer, reader and backlog.

All of it talks to the bucket through ``ObjectStore`` (``ports.py``); ``aws.s3`` is the
S3 implementation.
"""
