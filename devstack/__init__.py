"""Local stand-ins for the production services, started and stopped by the demo and the tests.

SeaweedFS (``weed mini``) speaks S3 where production has MinIO; SecantusDB speaks the MongoDB
wire protocol where production has MongoDB. Both are real servers on 127.0.0.1, installed from
PyPI by ``requirements-dev.txt``.
"""
