"""yflink: Apache Flink's architecture in Python, for Hadoop.

The user API lives in :mod:`yflink.datastream` and :mod:`yflink.common`, mirroring PyFlink's
``pyflink.datastream`` and ``pyflink.common``.
"""

__version__ = "0.1.0"
