"""Lambda entry points: thin translations between AWS events and the core's use cases."""
