"""coproc package."""
