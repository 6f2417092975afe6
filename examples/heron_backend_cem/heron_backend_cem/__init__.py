"""An example HERON backend: the cross-entropy method over linear policies."""
