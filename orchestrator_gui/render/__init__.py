"""vispy scene code: model-to-array conversion and visuals."""
