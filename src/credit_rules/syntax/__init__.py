"""Surface syntax: the Lark grammar, the attrs AST it builds, and the printer back to text."""
