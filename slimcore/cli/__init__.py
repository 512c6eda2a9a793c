"""The `slimcore` command line: one sub-command module per area."""
