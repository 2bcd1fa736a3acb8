"""Model families, each in its own module, named in one small registry."""
