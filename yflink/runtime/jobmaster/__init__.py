"""The JobMaster: one per job; ExecutionGraph, scheduling, slot pool."""
