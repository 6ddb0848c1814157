"""The daemon core: the loop that owns the components and services, the pollers
and their drift-free schedules, what is kept in the state directory (per-entity
`seq`), and the small value helpers they share (timestamps, rate limits)."""
