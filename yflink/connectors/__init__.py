"""yflink's own connectors, beyond PyFlink's (which live in :mod:`yflink.datastream.connectors`).

- :mod:`yflink.connectors.nexmark`: the Nexmark benchmark's event generator as a parallel source.
"""
