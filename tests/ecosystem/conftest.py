from callreplay.pytest_fixtures import callreplay_replay  # noqa: F401  (the plugin's fixture, for in-process tests)
