"""The toon processor: jobs of many toons, processed in parallel and counted exactly."""

__version__ = "1.0.0"
