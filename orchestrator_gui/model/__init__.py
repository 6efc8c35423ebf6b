"""Pure data model: thought graph, coordinates, activation, transforms (no Qt, no vispy)."""
