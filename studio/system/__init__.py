"""The machine: data folders, platform quirks, logging, bundled assets, progress reporting."""
