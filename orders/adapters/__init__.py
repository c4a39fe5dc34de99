"""Outside systems the orders app reads from: marketplace export files."""
