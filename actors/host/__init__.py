"""Session hosts: many live sessions per process, reached over links."""
