"""Writing outputs: encoders and formats, output names, atomic writes, sidecars, export copies."""
