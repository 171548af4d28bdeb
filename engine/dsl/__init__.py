"""The leadpost DSL: load YAML files with positions, validate them, report positioned issues."""
