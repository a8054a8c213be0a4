"""The TaskExecutor (TaskManager process) and its slot workers."""
