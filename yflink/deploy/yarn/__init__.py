"""Deployment on Apache Hadoop YARN through skein (Flink: "Apache Hadoop YARN" deployment).

* :mod:`.options` — Flink's ``yarn.*`` keys (and ``resourcemanager.taskmanager-timeout``).
* :mod:`.shipping` — what travels to the containers as YARN localized resources: the packed Python
  environment (or ``yarn.provided.lib.dirs``), the job script, ``yarn.ship-files``, ``config.yaml``.
* :mod:`.descriptor` — the client: builds the skein ApplicationSpec, submits, follows, kills.
* :mod:`.appmaster` — the application master's program: JobManager (+ the job's main in application mode).
* :mod:`.driver` — the ResourceManager's YARN driver: TaskManager containers on demand.
* :mod:`.container` — the TaskManager container's program.

skein is an optional dependency (``pip install 'yflink[yarn]'``) imported only inside this package.
"""
