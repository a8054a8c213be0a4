"""Flink's REST API for yflink: messages (JSON shapes shared by server and client), the aiohttp server the
JobManager runs, and the synchronous client the CLI and the executors use.

Server side: :func:`yflink.rest.server.start_rest_server`. Client side: :class:`yflink.rest.client.RestClusterClient`.
Modules are imported on demand so the client does not pull in aiohttp or the runtime.
"""
