"""Developer tools that never run in production: the WeChat emulator, the demo seed.
Nothing under config/ or any app imports this package (an import-linter contract checks it)."""
